//! Health checks (for `users healthcheck`, ECS's container health check) and the operational
//! endpoints `/openapi.json` and `/metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{ErrorBody, UsersError};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the answer is 200.
    pub status: &'static str,
    /// The storage backend in use: `sqlite` or `postgres`.
    pub storage: &'static str,
}

async fn check(state: &AppState) -> Result<Json<Health>, UsersError> {
    let pool = state.store.pool();
    match tokio::time::timeout(Duration::from_secs(2), pool.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ok",
            storage: pool.backend(),
        })),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(sqlx::Error::PoolTimedOut.into()),
    }
}

/// Health check: 200 when the server and its storage answer.
#[utoipa::path(get, path = "/status", tag = "health", responses(
    (status = 200, body = Health), (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<Health>, UsersError> {
    check(&state).await
}

/// Health check (conventional path), same as `/status`.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, body = Health), (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, UsersError> {
    check(&state).await
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.clone(),
    )
}

/// Prometheus metrics (OpenMetrics text): request counts and latency histograms by method, route and status.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text format", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, kit::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
