//! The router, the state handlers share, and the responses every page uses.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::client::Users;
use crate::config::Config;
use crate::{logging, page, routes};
use kit::metrics::Metrics;
use kit::observe::Observe;

/// Larger request bodies get 413 (a form here is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Every route template, for the router and the metrics' route label.
pub const ROUTES: [&str; 9] = [
    "/",
    "/users",
    "/users/{id}",
    "/users/{id}/edit",
    "/users/{id}/delete",
    "/style.css",
    "/healthz",
    "/status",
    "/metrics",
];

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub users: Users,
    pub metrics: Arc<Metrics>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole application: the router inside the counting, logging layer.
pub type App = Observe<Router>;

pub fn build(config: &Config) -> App {
    let counters = Arc::new(Metrics::new(
        "web",
        ROUTES.map(String::from),
        logging::dropped,
    ));
    let state = AppState(Arc::new(Shared {
        users: Users::new(&config.users_url, config.users_timeout),
        metrics: counters.clone(),
    }));
    let [
        index,
        users,
        user,
        edit,
        delete,
        style,
        healthz,
        status,
        metrics,
    ] = ROUTES;
    let router = Router::new()
        .route(index, get(routes::index))
        .route(users, post(routes::add))
        .route(user, post(routes::save))
        .route(edit, get(routes::edit))
        .route(delete, post(routes::delete))
        .route(style, get(routes::style))
        .route(healthz, get(routes::health))
        .route(status, get(routes::health))
        .route(metrics, get(routes::metrics))
        .method_not_allowed_fallback(|| async {
            let body = page::error(
                "Method not allowed",
                "This address does not take that kind of request.",
            );
            html(StatusCode::METHOD_NOT_ALLOWED, body)
        })
        .fallback(|| async {
            let body = page::error("Page not found", "There is no page at this address.");
            html(StatusCode::NOT_FOUND, body)
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    Observe::new(router, counters, logging::access)
}

/// An HTML page: never cached (it shows live data), no script may run, no framing.
pub fn html(status: StatusCode, body: String) -> Response {
    const SECURITY: [(header::HeaderName, &str); 5] = [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    let mut res = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    for (name, value) in SECURITY {
        res.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    res
}
