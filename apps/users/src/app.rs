//! The router: routes, their OpenAPI description, the shared state, fallbacks.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use kit::metrics::Metrics;
use kit::observe::Observe;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::UsersError;
use crate::store::Store;
use crate::{health, logging, routes as users};

#[derive(OpenApi)]
#[openapi(info(
    title = "stackctl users",
    description = "Users (ID and name): the back end of the two-tier example. Errors are \
        `{\"error\": CODE, \"message\": TEXT}`."
))]
struct ApiDoc;

/// What handlers share, cloned per request.
pub type AppState = Arc<Shared>;

pub struct Shared {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub max_body_bytes: usize,
    pub openapi: Bytes,
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(health::status))
        .routes(routes!(health::healthz))
        .routes(routes!(health::openapi_json))
        .routes(routes!(health::metrics))
}

/// The OpenAPI document of exactly the routes [`build`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// The whole application: the router inside the counting, logging layer.
pub type App = Observe<Router>;

pub fn build(store: Store, max_body_bytes: usize) -> App {
    let (router, doc) = routes().split_for_parts();
    let metrics = Arc::new(Metrics::new(
        "users",
        doc.paths.paths.keys().cloned(),
        logging::dropped,
    ));
    let state = Arc::new(Shared {
        store,
        metrics: metrics.clone(),
        max_body_bytes,
        openapi: Bytes::from(doc.to_json().unwrap_or_default()),
    });
    let router = router
        .method_not_allowed_fallback(|| async { UsersError::MethodNotAllowed })
        .fallback(not_found)
        .with_state(state);
    Observe::new(router, metrics, logging::access)
}

async fn not_found(req: Request) -> Response {
    UsersError::RouteNotFound(req.uri().path().to_owned()).into_response()
}
