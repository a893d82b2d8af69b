//! What handlers share: one `Arc`, cloned per request. Handlers import it from here, the
//! router (`app`) builds it; neither imports the other's module.

use std::sync::Arc;

use axum::body::Bytes;

use crate::auth::Tokens;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub tokens: Tokens,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub limiter: RateLimiter,
    pub max_body_bytes: usize,
    pub openapi: Bytes,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
