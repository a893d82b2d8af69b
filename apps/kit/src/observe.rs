//! The outermost service around an app's router: an optional gate (api's rate limit), then
//! one metrics observation and one access-log line per request. A plain tower service with an unboxed future, outside the router so
//! routes are not wrapped one by one: it runs on every request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::response::Response;
use tower::Service;

use crate::logging::Access;
use crate::metrics::Metrics;

/// A check before the app: `Some` answers the request instead of the app (still counted
/// and logged).
pub type Gate = Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
    /// The app's access logger (`kit::access_log!`).
    access: fn(&Access<'_>),
    gate: Option<Gate>,
}

impl<S> Observe<S> {
    pub fn new(inner: S, metrics: Arc<Metrics>, access: fn(&Access<'_>)) -> Self {
        Self {
            inner,
            metrics,
            access,
            gate: None,
        }
    }

    pub fn with_gate(self, gate: Gate) -> Self {
        Self {
            gate: Some(gate),
            ..self
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
            route: self.metrics.route_of(req.uri().path()),
        };
        let early = self.gate.as_ref().and_then(|gate| gate(&req));
        let inner = match early {
            None => Some(self.inner.call(req)),
            Some(_) => None,
        };
        ObserveFuture {
            inner,
            early,
            seen: Some(seen),
            metrics: self.metrics.clone(),
            access: self.access,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        inner: Option<F>,
        early: Option<Response>,
        seen: Option<Seen>,
        metrics: Arc<Metrics>,
        access: fn(&Access<'_>),
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for ObserveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = match this.inner.as_pin_mut() {
            Some(inner) => ready!(inner.poll(cx))?,
            None => this.early.take().unwrap_or_default(),
        };
        if let Some(seen) = this.seen.take() {
            let latency = seen.start.elapsed();
            let status = res.status().as_u16();
            this.metrics
                .observe(seen.method.as_str(), seen.route, status, latency);
            (this.access)(&Access {
                method: seen.method.as_str(),
                path: seen.uri.path(),
                status,
                latency_us: latency.as_micros() as u64,
            });
        }
        Poll::Ready(Ok(res))
    }
}
