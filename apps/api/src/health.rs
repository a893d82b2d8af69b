//! Unauthenticated health checks, for load balancers and `api healthcheck`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the answer is 200.
    pub status: &'static str,
    /// The storage backend in use: `sqlite` or `postgres`.
    pub storage: &'static str,
}

async fn check(state: &AppState) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ok",
            storage: state.store.backend(),
        })),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(sqlx::Error::PoolTimedOut.into()),
    }
}

/// Health check (the original API's path): 200 when the server and its storage answer.
#[utoipa::path(get, path = "/status", tag = "health", responses(
    (status = 200, body = Health), (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    check(&state).await
}

/// Health check (conventional path), same as `/status`.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, body = Health), (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    check(&state).await
}
