//! What the apps stackctl deploys (`api`, `users`, `web`) share, so each behaves the same in
//! production: JSON log lines, Prometheus metrics, graceful shutdown, the `healthcheck`
//! subcommand, settings from the environment, and database pools with their migrations.

pub mod cli;
pub mod config;
#[cfg(feature = "db")]
pub mod db;
pub mod extract;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod server;
#[cfg(feature = "db")]
#[doc(hidden)]
pub mod testing;

// For the `access_log!` macro's expansion in the apps.
#[doc(hidden)]
pub use tracing;
