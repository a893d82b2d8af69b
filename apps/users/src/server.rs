//! Serving with graceful shutdown (see `kit::server`), stopping early for a new task when the
//! database refuses a rotated password.

use kit::server::StartError;

use crate::config::Config;
use crate::store::Store;

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = kit::server::shutdown_signal().map_err(StartError::Signals)?;
    let store = Store::open(&config.database, config.database_max_connections)
        .await
        .map_err(StartError::Storage)?;
    let listener = kit::server::bind(config.port).await?;
    let pool = store.pool().clone();
    tracing::info!(
        port = u64::from(config.port),
        storage = pool.backend(),
        "listening"
    );
    let app = crate::app::build(store, config.max_body_bytes);
    let rejected = {
        let pool = pool.clone();
        async move {
            pool.credentials_rejected().await;
            StartError::CredentialsRejected
        }
    };
    let result = kit::server::run(listener, app, signal, rejected, config.shutdown_timeout).await;
    pool.close().await;
    tracing::info!("stopped");
    result
}
