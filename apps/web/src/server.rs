//! Serving with graceful shutdown (see `kit::server`).

use std::future::{Future, IntoFuture};
use std::net::Ipv4Addr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::App;
use crate::config::Config;

pub use kit::server::shutdown_signal;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot listen on port {0}: {1}")]
    Bind(u16, std::io::Error),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = shutdown_signal().map_err(StartError::Signals)?;
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, config.port))
        .await
        .map_err(|e| StartError::Bind(config.port, e))?;
    tracing::info!(
        port = u64::from(config.port),
        users_url = %config.users_url,
        "listening"
    );
    let app = crate::app::build(&config);
    let shutdown = async move {
        let name = signal.await;
        tracing::info!(signal = name, "shutting down: finishing in-flight requests");
    };
    let result = serve(listener, app, shutdown, config.shutdown_timeout).await;
    tracing::info!("stopped");
    result.map_err(StartError::Serve)
}

/// Serves until `shutdown` resolves, then drains for at most `drain_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (stop, deadline) = kit::server::drain(shutdown, drain_timeout);
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    kit::server::bounded(server.into_future(), deadline).await
}
