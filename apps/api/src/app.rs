//! The router: routes, their OpenAPI description, shared state, fallbacks.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::observe::ObserveLayer;
use crate::openapi::ApiDoc;
use crate::payments::{legacy, v1};
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::store::Store;
use crate::{health, index, logging, openapi};

/// What handlers share; cloned per request, so one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub tokens: Tokens,
    pub store: Store,
    pub metrics: Metrics,
    pub limiter: RateLimiter,
    pub max_body_bytes: usize,
    pub openapi: Bytes,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // Documented in ApiDoc; registered by hand because it answers every method like Flask.
        .route("/", any(index::index))
        .routes(routes!(health::status))
        .routes(routes!(health::healthz))
        .routes(routes!(legacy::create))
        .routes(routes!(legacy::update))
        .routes(routes!(legacy::list))
        .routes(routes!(legacy::delete))
        .routes(routes!(v1::create, v1::list))
        .routes(routes!(v1::get, v1::update, v1::delete))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(openapi::metrics))
}

/// The OpenAPI document of exactly the routes [`build`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

pub fn build(
    tokens: Tokens,
    store: Store,
    rate_limit: RateLimitConfig,
    max_body_bytes: usize,
) -> Router {
    let (router, doc) = routes().split_for_parts();
    let metrics = Metrics::new(doc.paths.paths.keys().cloned(), logging::dropped);
    let state = AppState(Arc::new(Shared {
        tokens,
        store,
        metrics,
        limiter: RateLimiter::new(rate_limit),
        max_body_bytes,
        openapi: Bytes::from(doc.to_json().unwrap_or_default()),
    }));
    // `layer` wraps each route (after routing, so `observe` sees the matched route) and the
    // fallbacks.
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(not_found)
        .layer(ObserveLayer(state.clone()))
        .with_state(state)
}

async fn not_found(state: State<AppState>, req: Request) -> Response {
    if index::is_root_alias(req.uri().path()) {
        return index::index(state, req).await;
    }
    ApiError::RouteNotFound(req.uri().path().to_owned()).into_response()
}
