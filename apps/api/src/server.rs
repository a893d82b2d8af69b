//! Serving with graceful shutdown (see `kit::server`), stopping early for a new task when the
//! database refuses a rotated password.

pub use kit::server::{StartError, serve, shutdown_signal};

use crate::config::Config;
use crate::store::Store;

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = shutdown_signal().map_err(StartError::Signals)?;
    let store = Store::open(&config.database, config.database_max_connections)
        .await
        .map_err(StartError::Storage)?;
    let listener = kit::server::bind(config.port).await?;
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
    let rejected = {
        let store = store.clone();
        async move {
            store.credentials_rejected().await;
            StartError::CredentialsRejected
        }
    };
    let result = kit::server::run(listener, app, signal, rejected, config.shutdown_timeout).await;
    store.close().await;
    tracing::info!("stopped");
    result
}
