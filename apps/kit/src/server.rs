//! Graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight requests finish (up
//! to a drain timeout), then return. Works as PID 1, which has no default signal handlers.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Request;
use axum::{Router, ServiceExt};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::observe::Observe;

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

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[cfg(feature = "db")]
    #[error("cannot open storage: {0}")]
    Storage(sqlx::Error),
    #[error("cannot listen on port {0}: {1}")]
    Bind(u16, std::io::Error),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[cfg(feature = "db")]
    #[error(
        "the database refused the password this task started with (rotated by RDS?): exiting so that a new task starts with the current secret"
    )]
    CredentialsRejected,
}

/// Listens on every address, port `port`.
pub async fn bind(port: u16) -> Result<TcpListener, StartError> {
    TcpListener::bind((std::net::Ipv4Addr::UNSPECIFIED, port))
        .await
        .map_err(|e| StartError::Bind(port, e))
}

/// Serves `app` until `signal` (see [`shutdown_signal`]) or until `fatal` resolves, then
/// drains for at most `drain_timeout`; `fatal`'s error is returned once drained (a rotated
/// database password: only a new task reads the current secret).
pub async fn run(
    listener: TcpListener,
    app: Observe<Router>,
    signal: impl Future<Output = &'static str> + Send + 'static,
    fatal: impl Future<Output = StartError> + Send + 'static,
    drain_timeout: Duration,
) -> Result<(), StartError> {
    let (failed, failure) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        tokio::select! {
            name = signal => {
                tracing::info!(signal = name, "shutting down: finishing in-flight requests");
            }
            error = fatal => {
                tracing::error!(error = %error, "shutting down");
                let _ = failed.send(error);
            }
        }
    };
    serve(listener, app, shutdown, drain_timeout)
        .await
        .map_err(StartError::Serve)?;
    match failure.await {
        Ok(error) => Err(error),
        Err(_) => Ok(()),
    }
}

/// Serves `app` (each request knowing its peer as `ConnectInfo<SocketAddr>`) until `shutdown`
/// resolves, then lets in-flight requests finish for at most `drain_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Observe<Router>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (stop, deadline) = drain(shutdown, drain_timeout);
    let make = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
    let server = axum::serve(listener, make).with_graceful_shutdown(stop);
    bounded(server.into_future(), deadline).await
}

/// Splits `shutdown` for a server with a bounded drain: the first future is what the
/// server's graceful shutdown waits on; the second resolves `drain_timeout` after it.
fn drain(
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> (
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
) {
    let (started, draining) = tokio::sync::oneshot::channel();
    let stop = async move {
        shutdown.await;
        let _ = started.send(());
    };
    let deadline = async move {
        match draining.await {
            Ok(()) => tokio::time::sleep(drain_timeout).await,
            Err(_) => std::future::pending().await,
        }
    };
    (stop, deadline)
}

/// Runs `server` until it has drained, or until `deadline` (see [`drain`]).
async fn bounded(
    server: impl Future<Output = std::io::Result<()>>,
    deadline: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!("drain timeout reached: closing the remaining connections");
            Ok(())
        }
    }
}
