//! Serving with graceful shutdown (see `kit::server`), stopping early for a new task when the
//! database refuses a rotated password.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::Ipv4Addr;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use tower::Service;

use crate::app::App;
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot open storage: {0}")]
    Storage(sqlx::Error),
    #[error("cannot listen on port {0}: {1}")]
    Bind(u16, std::io::Error),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error(
        "the database refused this task's password (rotated by RDS?): exiting so that a new task starts with the current secret"
    )]
    CredentialsRejected,
}

pub use kit::server::shutdown_signal;

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = shutdown_signal().map_err(StartError::Signals)?;
    let store = Store::open(&config.database, config.database_max_connections)
        .await
        .map_err(StartError::Storage)?;
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, config.port))
        .await
        .map_err(|e| StartError::Bind(config.port, e))?;
    tracing::info!(
        port = u64::from(config.port),
        storage = store.backend(),
        "listening"
    );
    let app = crate::app::build(
        config.tokens,
        store.clone(),
        config.rate_limit,
        config.max_body_bytes,
    );
    // A rotated database password: the secret ECS gave this task is stale and only a new
    // task reads the current one, so stop (in-flight requests finish) and exit non-zero.
    let rejected = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let shutdown = {
        let (store, rejected) = (store.clone(), rejected.clone());
        async move {
            tokio::select! {
                name = signal => {
                    tracing::info!(signal = name, "shutting down: finishing in-flight requests");
                }
                () = store.credentials_rejected() => {
                    rejected.store(true, std::sync::atomic::Ordering::SeqCst);
                    tracing::error!("the database refused the password: shutting down for a task with the current secret");
                }
            }
        }
    };
    let result = serve(listener, app, shutdown, config.shutdown_timeout).await;
    store.close().await;
    tracing::info!("stopped");
    result.map_err(StartError::Serve)?;
    if rejected.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(StartError::CredentialsRejected);
    }
    Ok(())
}

/// Makes the per-connection service, which knows its peer (for rate limiting).
#[derive(Clone)]
struct PerConnection(App);

impl<'a> Service<IncomingStream<'a, TcpListener>> for PerConnection {
    type Response = App;
    type Error = Infallible;
    type Future = std::future::Ready<Result<App, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'a, TcpListener>) -> Self::Future {
        std::future::ready(Ok(self.0.for_peer(*stream.remote_addr())))
    }
}

/// Serves until `shutdown` resolves, then drains for at most `drain_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (stop, deadline) = kit::server::drain(shutdown, drain_timeout);
    let server = axum::serve(listener, PerConnection(app)).with_graceful_shutdown(stop);
    kit::server::bounded(server.into_future(), deadline).await
}
