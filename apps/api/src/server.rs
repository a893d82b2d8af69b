//! Serving with graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight requests
//! finish (up to a drain timeout), then exit. Works as PID 1, which has no default handlers.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

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
}

/// Resolves on the first SIGTERM or SIGINT. Handlers are installed now, before anything slow.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = &'static str> + Send> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = shutdown_signal().map_err(StartError::Signals)?;
    let store = Store::connect(&config.database_url, config.database_max_connections)
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
    let shutdown = async move {
        let name = signal.await;
        tracing::info!(signal = name, "shutting down: finishing in-flight requests");
    };
    let result = serve(listener, app, shutdown, config.shutdown_timeout).await;
    store.close().await;
    tracing::info!("stopped");
    result.map_err(StartError::Serve)
}

/// Serves until `shutdown` resolves, then drains for at most `drain_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (started, draining) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        shutdown.await;
        let _ = started.send(());
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    let deadline = async move {
        match draining.await {
            Ok(()) => tokio::time::sleep(drain_timeout).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!("drain timeout reached: closing the remaining connections");
            Ok(())
        }
    }
}
