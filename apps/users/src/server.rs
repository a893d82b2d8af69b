//! Serving with graceful shutdown (see `kit::server`), stopping early for a new task when the
//! database refuses a rotated password.

use std::future::IntoFuture;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;

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

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = kit::server::shutdown_signal().map_err(StartError::Signals)?;
    let store = Store::open(&config.database, config.database_max_connections)
        .await
        .map_err(StartError::Storage)?;
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, config.port))
        .await
        .map_err(|e| StartError::Bind(config.port, e))?;
    let pool = store.pool().clone();
    tracing::info!(
        port = u64::from(config.port),
        storage = pool.backend(),
        "listening"
    );
    let app = crate::app::build(store, config.max_body_bytes);
    let rejected = Arc::new(AtomicBool::new(false));
    let shutdown = {
        let (pool, rejected) = (pool.clone(), rejected.clone());
        async move {
            tokio::select! {
                name = signal => {
                    tracing::info!(signal = name, "shutting down: finishing in-flight requests");
                }
                () = pool.credentials_rejected() => {
                    rejected.store(true, Ordering::SeqCst);
                    tracing::error!("the database refused the password: shutting down for a task with the current secret");
                }
            }
        }
    };
    let (stop, deadline) = kit::server::drain(shutdown, config.shutdown_timeout);
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    let result = kit::server::bounded(server.into_future(), deadline).await;
    pool.close().await;
    tracing::info!("stopped");
    result.map_err(StartError::Serve)?;
    if rejected.load(Ordering::SeqCst) {
        return Err(StartError::CredentialsRejected);
    }
    Ok(())
}
