//! The router: routes, their OpenAPI description, the shared state it builds, fallbacks.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use kit::metrics::Metrics;
use kit::observe::Observe;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::payments::{legacy, v1};
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::{health, index, logging, openapi};

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

/// The whole application: the router inside the rate-limiting, counting, logging layer
/// (health checks are not rate limited).
pub type App = Observe<Router>;

pub fn build(
    tokens: Tokens,
    store: Store,
    rate_limit: RateLimitConfig,
    max_body_bytes: usize,
) -> App {
    let (router, doc) = routes().split_for_parts();
    let metrics = Arc::new(Metrics::new(
        "api",
        doc.paths.paths.keys().cloned(),
        logging::dropped,
    ));
    let state = AppState::new(Shared {
        tokens,
        store,
        metrics: metrics.clone(),
        limiter: RateLimiter::new(rate_limit),
        max_body_bytes,
        openapi: Bytes::from(doc.to_json().unwrap_or_default()),
    });
    let router = router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(not_found)
        .with_state(state.clone());
    Observe::new(router, metrics, logging::access).with_gate(Arc::new(move |req| {
        let limiter = &state.limiter;
        if !limiter.enabled() || matches!(req.uri().path(), "/status" | "/healthz") {
            return None;
        }
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let wait = limiter
            .check(limiter.client_of(req.headers(), peer))
            .err()?;
        Some(ApiError::RateLimited(wait).into_response())
    }))
}

async fn not_found(state: State<AppState>, req: Request) -> Response {
    if index::is_root_alias(req.uri().path()) {
        return index::index(state, req).await;
    }
    ApiError::RouteNotFound(req.uri().path().to_owned()).into_response()
}
