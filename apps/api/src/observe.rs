//! The outermost service around the router: rate limit (health checks exempt), then one
//! metrics observation and one access-log line per request. A plain tower service with an
//! unboxed future, outside the router so routes are not wrapped one by one: it runs on every
//! request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use tower::Service;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    state: AppState,
    /// The connection's peer; without it (in-process tests) a `ConnectInfo` extension is used.
    peer: Option<SocketAddr>,
}

impl<S: Clone> Observe<S> {
    pub fn new(inner: S, state: AppState) -> Self {
        Self {
            inner,
            state,
            peer: None,
        }
    }

    /// This service for one connection.
    pub fn for_peer(&self, peer: SocketAddr) -> Self {
        Self {
            inner: self.inner.clone(),
            state: self.state.clone(),
            peer: Some(peer),
        }
    }
}

struct Seen {
    start: Instant,
    method: Method,
    uri: Uri,
    route: u16,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let seen = Seen {
            start: Instant::now(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            route: self.state.metrics.route_of(req.uri().path()),
        };
        let limiter = &self.state.limiter;
        let mut limited = None;
        if limiter.enabled() && !matches!(seen.uri.path(), "/status" | "/healthz") {
            let peer = self.peer.or_else(|| {
                req.extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0)
            });
            limited = limiter.check(limiter.client_of(req.headers(), peer)).err();
        }
        let inner = if limited.is_none() {
            Some(self.inner.call(req))
        } else {
            None
        };
        ObserveFuture {
            inner,
            limited,
            seen: Some(seen),
            state: self.state.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        inner: Option<F>,
        limited: Option<u64>,
        seen: Option<Seen>,
        state: AppState,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for ObserveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = match this.inner.as_pin_mut() {
            Some(fut) => ready!(fut.poll(cx))?,
            None => ApiError::RateLimited(this.limited.unwrap_or(1)).into_response(),
        };
        if let Some(seen) = this.seen.take() {
            record(this.state, &seen, &res);
        }
        Poll::Ready(Ok(res))
    }
}

fn record(state: &AppState, seen: &Seen, res: &Response) {
    let latency = seen.start.elapsed();
    let status = res.status().as_u16();
    state
        .metrics
        .observe(seen.method.as_str(), seen.route, status, latency);
    crate::logging::access(&crate::logging::Access {
        method: seen.method.as_str(),
        path: seen.uri.path(),
        status,
        latency_us: latency.as_micros() as u64,
    });
}
