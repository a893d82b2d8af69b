//! Shared helpers: the app on a fresh store, requests sent in-process, answers read whole.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use users::app::App;
use users::store::Store;

/// Small, so the 413 path is cheap to reach.
pub const MAX_BODY: usize = 1024;

pub async fn sqlite_store() -> Store {
    Store::connect("sqlite::memory:", 1)
        .await
        .expect("in-memory SQLite")
}

/// A fresh schema on the test PostgreSQL, or None when there is none.
pub async fn postgres_store() -> Option<Store> {
    let url = kit::testing::postgres_schema("users").await?;
    Some(
        Store::connect(&url, 2)
            .await
            .expect("connect with the test schema"),
    )
}

pub fn app(store: Store) -> App {
    users::app::build(store, MAX_BODY)
}

/// An answer, fully read.
pub struct Res {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a JSON error answer with this status and code; returns its message.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["error"], code, "{v}");
        v["message"].as_str().expect("a message").to_owned()
    }
}

/// Sends a request with an optional body of the given content type.
pub async fn send(app: &App, method: Method, uri: &str, body: Option<(&str, Vec<u8>)>) -> Res {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some((content_type, bytes)) => {
            req = req.header(header::CONTENT_TYPE, content_type);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let res = app
        .clone()
        .oneshot(req.body(body).expect("a valid request"))
        .await
        .expect("infallible");
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Res {
        status,
        location,
        body,
    }
}

pub async fn json(app: &App, method: Method, uri: &str, body: Value) -> Res {
    send(
        app,
        method,
        uri,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}
