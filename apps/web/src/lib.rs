//! The web front end stackctl deploys next to the users API: server-rendered HTML pages (no
//! JavaScript) to list, add, rename and delete users, calling the API over plain HTTP.

pub mod app;
pub mod client;
pub mod config;
pub mod logging;
pub mod page;
pub mod routes;
pub mod server;
pub mod validate;

pub use kit::{healthcheck, metrics};
