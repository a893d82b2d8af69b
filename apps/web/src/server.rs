//! Serving with graceful shutdown (see `kit::server`).

use kit::server::StartError;

use crate::config::Config;

pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = kit::server::shutdown_signal().map_err(StartError::Signals)?;
    let listener = kit::server::bind(config.port).await?;
    tracing::info!(
        port = u64::from(config.port),
        users_url = %config.users_url,
        "listening"
    );
    let app = crate::app::build(&config);
    let never = std::future::pending();
    let result = kit::server::run(listener, app, signal, never, config.shutdown_timeout).await;
    tracing::info!("stopped");
    result
}
