//! The local front: one port on 127.0.0.1 that plays the load balancer. It routes as the
//! listener rules do (see [`Routes`]), only to a healthy instance, and adds the headers an
//! Application Load Balancer adds (`X-Forwarded-For` appended, `-Proto`, `-Port`). With
//! no rule for a request it answers 404, with no healthy instance 503 and with an instance
//! that drops the connection 502, as the load balancer does.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use super::DevError;
use super::routes::Routes;

type Body = BoxBody<Bytes, hyper::Error>;

/// The address of each service's healthy instance.
#[derive(Default)]
pub struct Healthy(RwLock<BTreeMap<String, SocketAddr>>);

impl Healthy {
    pub fn set(&self, service: &str, at: Option<SocketAddr>) {
        let mut map = self.0.write().expect("not poisoned");
        match at {
            Some(a) => map.insert(service.to_string(), a),
            None => map.remove(service),
        };
    }

    pub fn get(&self, service: &str) -> Option<SocketAddr> {
        self.0.read().expect("not poisoned").get(service).copied()
    }

    pub fn count(&self) -> usize {
        self.0.read().expect("not poisoned").len()
    }
}

/// Binds the front's port on the loopback interface (only this machine reaches it).
pub async fn bind(port: u16) -> Result<TcpListener, DevError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => DevError::PortInUse {
                port,
                what: "the front".into(),
            },
            std::io::ErrorKind::PermissionDenied => DevError::PrivilegedPort {
                port,
                what: "the front".into(),
            },
            _ => DevError::io("listen on", format!("127.0.0.1:{port}"))(e),
        })
}

/// Serves until the task is dropped or aborted.
pub async fn serve(listener: TcpListener, routes: Routes, healthy: Arc<Healthy>) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    let shared = Arc::new((routes, healthy, client, port));
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors, say: wait instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move {
                    let (routes, healthy, client, port) = &*shared;
                    Ok::<_, Infallible>(forward(req, peer, routes, healthy, client, *port).await)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    mut req: Request<Incoming>,
    peer: SocketAddr,
    routes: &Routes,
    healthy: &Healthy,
    client: &Client<HttpConnector, Incoming>,
    front_port: u16,
) -> Response<Body> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let Some(service) = routes.pick(host.as_deref(), req.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "no service takes this request\n");
    };
    let Some(at) = healthy.get(service) else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("service {service} has no healthy instance (its lines say why)\n"),
        );
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    // `OPTIONS *`, say: no path to forward.
    let uri = http::Uri::builder()
        .scheme("http")
        .authority(at.to_string())
        .path_and_query(path)
        .build();
    let (true, Ok(uri)) = (path.starts_with('/'), uri) else {
        return text(StatusCode::BAD_REQUEST, "not a path\n");
    };
    *req.uri_mut() = uri;
    let headers = req.headers_mut();
    for hop in HOP_BY_HOP {
        headers.remove(*hop);
    }
    let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(before) => format!("{before}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    let set = |headers: &mut http::HeaderMap, name: &'static str, value: String| {
        if let Ok(v) = value.parse() {
            headers.insert(name, v);
        }
    };
    set(headers, "x-forwarded-for", forwarded);
    set(headers, "x-forwarded-proto", "http".into());
    set(headers, "x-forwarded-port", front_port.to_string());
    match client.request(req).await {
        Ok(resp) => resp.map(|b| b.boxed()),
        Err(_) => text(
            StatusCode::BAD_GATEWAY,
            &format!("service {service} closed the connection\n"),
        ),
    }
}

/// Headers for one connection, not to be passed on (RFC 9110, section 7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from(body.to_string()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
