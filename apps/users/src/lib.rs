//! The users API: a CRUD JSON API over users (ID and name) on axum, with SQLite or PostgreSQL
//! storage; the back end of the two-tier example (`apps/web` is its front end).

pub mod app;
pub mod config;
pub mod error;
pub mod extract;
pub mod health;
pub mod logging;
pub mod model;
pub mod routes;
pub mod server;
pub mod store;
