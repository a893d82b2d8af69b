//! The OpenAPI 3 document (generated from the handlers' annotations and the router itself) and
//! the operational endpoints `/openapi.json` and `/metrics`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::RequireToken;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "stackctl api",
        description = "Token-protected API (a drop-in for the original Flask app) and payments API. \
            Send `Authorization: Token <value>`."
    ),
    paths(crate::index::index),
    modifiers(&TokenScheme)
)]
pub struct ApiDoc;

struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <value>`: the value of API_TOKEN (or API_TOKEN_PREVIOUS during a rotation)",
            ))),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(("token" = [])),
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json(_: RequireToken, State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::clone(&state.openapi),
    )
}

/// Prometheus metrics (OpenMetrics text): request counts and latency histograms by method, route and status.
#[utoipa::path(get, path = "/metrics", tag = "meta", security(("token" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(_: RequireToken, State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
