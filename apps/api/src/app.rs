//! The router: routes, their OpenAPI description, and the per-request layer that rate-limits,
//! counts and logs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::openapi::ApiDoc;
use crate::payments::{legacy, v1};
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::store::Store;
use crate::{health, index, logging, openapi};

#[derive(Clone)]
pub struct AppState {
    pub tokens: Arc<Tokens>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub limiter: Arc<RateLimiter>,
    pub max_body_bytes: usize,
    pub openapi: Bytes,
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
    let state = AppState {
        tokens: Arc::new(tokens),
        store,
        metrics: Arc::new(metrics),
        limiter: Arc::new(RateLimiter::new(rate_limit)),
        max_body_bytes,
        openapi: Bytes::from(doc.to_json().unwrap_or_default()),
    };
    // `layer` wraps each route (after routing, so `observe` sees the matched route) and the
    // fallbacks.
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn not_found(state: State<AppState>, req: Request) -> Response {
    if index::is_root_alias(req.uri().path()) {
        return index::index(state, req).await;
    }
    ApiError::RouteNotFound(req.uri().path().to_owned()).into_response()
}

/// Rate limit (health checks exempt), then one metrics observation and one access-log line.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut limited = None;
    if state.limiter.enabled() && !matches!(uri.path(), "/status" | "/healthz") {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
        limited = state
            .limiter
            .check(state.limiter.client_of(req.headers(), peer))
            .err();
    }
    let res = match limited {
        Some(secs) => ApiError::RateLimited(secs).into_response(),
        None => next.run(req).await,
    };
    let latency = start.elapsed();
    let status = res.status().as_u16();
    let route = route.as_ref().map(MatchedPath::as_str);
    state
        .metrics
        .observe(method.as_str(), route, status, latency);
    tracing::info!(
        target: "api::access",
        method = method.as_str(),
        path = uri.path(),
        status = u64::from(status),
        latency_us = latency.as_micros() as u64,
    );
    res
}
