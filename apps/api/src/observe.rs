//! The per-request layer: rate limit (health checks exempt), then one metrics observation and
//! one access-log line. A plain tower service with an unboxed future: it runs on every request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::app::AppState;
use crate::error::ApiError;

#[derive(Clone)]
pub struct ObserveLayer(pub AppState);

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    state: AppState,
}

struct Seen {
    start: Instant,
    method: Method,
    uri: Uri,
    route: Option<MatchedPath>,
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
            route: req.extensions().get::<MatchedPath>().cloned(),
        };
        let limiter = &self.state.limiter;
        let mut limited = None;
        if limiter.enabled() && !matches!(seen.uri.path(), "/status" | "/healthz") {
            let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
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
    let route = seen.route.as_ref().map(MatchedPath::as_str);
    state
        .metrics
        .observe(seen.method.as_str(), route, status, latency);
    tracing::info!(
        target: "api::access",
        method = seen.method.as_str(),
        path = seen.uri.path(),
        status = u64::from(status),
        latency_us = latency.as_micros() as u64,
    );
}
