//! The outermost service around an app's router: one metrics observation and one access-log
//! line per request. A plain tower service with an unboxed future, outside the router so
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
use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use tower::Service;

use crate::logging::Access;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
    /// The app's access logger (`kit::access_log!`).
    access: fn(&Access<'_>),
}

impl<S> Observe<S> {
    pub fn new(inner: S, metrics: Arc<Metrics>, access: fn(&Access<'_>)) -> Self {
        Self {
            inner,
            metrics,
            access,
        }
    }
}

/// The per-connection service axum's `serve` asks for: the same one for every connection.
impl<'a, S: Clone> Service<IncomingStream<'a, TcpListener>> for Observe<S> {
    type Response = Self;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: IncomingStream<'a, TcpListener>) -> Self::Future {
        std::future::ready(Ok(self.clone()))
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
        ObserveFuture {
            inner: self.inner.call(req),
            seen: Some(seen),
            metrics: self.metrics.clone(),
            access: self.access,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
        metrics: Arc<Metrics>,
        access: fn(&Access<'_>),
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for ObserveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
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
