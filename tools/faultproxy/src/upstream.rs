//! What goes back to the client: the upstream's reply, or one made here.

use crate::classify::Protocol;
use crate::wire::{Body, json_headers};
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderName, Response, StatusCode};
use http_body_util::Full;

pub(super) struct Upstream {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub(super) fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
    )
}

/// A JSON answer made here, not by the upstream.
pub(super) fn answered(p: Protocol, request_id: &str, body: Bytes) -> Upstream {
    Upstream {
        status: StatusCode::OK,
        headers: json_headers(p, request_id),
        body,
    }
}

pub(super) fn respond(up: Result<Upstream, String>) -> Response<Body> {
    match up {
        Ok(up) => {
            let mut resp = Response::new(Full::new(up.body));
            *resp.status_mut() = up.status;
            for (k, v) in &up.headers {
                if k != CONTENT_LENGTH && !hop_by_hop(k) {
                    resp.headers_mut().append(k, v.clone());
                }
            }
            resp
        }
        Err(e) => {
            tracing::warn!(error = %e, "upstream unreachable");
            let mut resp = Response::new(Full::new(Bytes::from(format!(
                "faultproxy: upstream error: {e}"
            ))));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp
        }
    }
}
