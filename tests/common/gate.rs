//! A gate between stackctl and moto for crash and lock tests: it forwards every call, counts
//! the mutating ones, and holds (never forwards) every mutating call after the `limit`-th,
//! until released. A test can then kill the client at an exact step. It can also forward one
//! write and drop its reply (the request committed, the client never hears: it retries).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

struct State {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    limit: u64,
    /// `(service:Action, n)`: the reply to that action's n-th call is dropped.
    lose: Option<(String, usize)>,
    /// Forwarded mutating calls, `service:Action`, in order.
    writes: Mutex<Vec<String>>,
    held: Mutex<Vec<String>>,
    open: watch::Sender<bool>,
}

pub struct Gate {
    url: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Gate {
    /// `limit`: how many mutating calls go through before the gate closes (None: all).
    pub async fn start(upstream: &str, limit: Option<u64>) -> Gate {
        Gate::with(upstream, limit, None).await
    }

    /// Forwards everything, but drops the reply to the `n`-th call of `action`.
    pub async fn losing_reply(upstream: &str, action: &str, n: usize) -> Gate {
        Gate::with(upstream, None, Some((action.to_string(), n))).await
    }

    async fn with(upstream: &str, limit: Option<u64>, lose: Option<(String, usize)>) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            limit: limit.unwrap_or(u64::MAX),
            lose,
            writes: Mutex::default(),
            held: Mutex::default(),
            open: watch::channel(false).0,
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                conns.spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Gate { url, state, task }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }
    pub fn writes(&self) -> Vec<String> {
        self.state.writes.lock().unwrap().clone()
    }
    /// Mutating calls waiting at the closed gate.
    pub fn held(&self) -> Vec<String> {
        self.state.held.lock().unwrap().clone()
    }
    /// Let every held and later call through.
    pub fn open(&self) {
        self.state.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let call = faultproxy::classify::classify_request(&parts, &body);
    let mut lose = false;
    if call.mutating {
        let pass = {
            let mut writes = state.writes.lock().unwrap();
            let pass = (writes.len() as u64) < state.limit || *state.open.borrow();
            if pass {
                let key = call.key();
                let nth = writes.iter().filter(|w| **w == key).count() + 1;
                lose = state.lose.as_ref() == Some(&(key.clone(), nth));
                writes.push(key);
            }
            pass
        };
        if !pass {
            state.held.lock().unwrap().push(call.key());
            let mut open = state.open.subscribe();
            let _ = open.wait_for(|o| *o).await;
            state.writes.lock().unwrap().push(call.key());
        }
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut fwd = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", state.upstream));
    for (k, v) in &parts.headers {
        if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
            fwd = fwd.header(k, v);
        }
    }
    let fwd = fwd.body(Full::new(body)).map_err(|e| e.to_string())?;
    let resp = state.client.request(fwd).await.map_err(|e| e.to_string())?;
    let (p, b) = resp.into_parts();
    let body = b.collect().await.map_err(|e| e.to_string())?.to_bytes();
    if lose {
        return Err("reply dropped".into());
    }
    let mut out = Response::new(Full::new(body));
    *out.status_mut() = p.status;
    for (k, v) in &p.headers {
        if k != http::header::CONTENT_LENGTH && k != http::header::TRANSFER_ENCODING {
            out.headers_mut().append(k, v.clone());
        }
    }
    Ok(out)
}
