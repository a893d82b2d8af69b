//! The API that stackctl deploys: a drop-in for the original Flask app (`GET /` with token
//! auth) plus a payments API, on axum/tokio, with SQLite or PostgreSQL storage.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod health;
pub mod index;
pub mod logging;
pub mod money;
pub mod openapi;
pub mod payments;
pub mod ratelimit;
pub mod server;
pub mod state;
pub mod store;

pub use kit::{healthcheck, metrics};
