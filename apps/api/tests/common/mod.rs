//! Shared helpers: build the app on a fresh store, send requests in-process, read answers.
#![allow(dead_code)]

pub mod process;

/// Runs each test on both backends (PostgreSQL from STACKCTL_TEST_POSTGRES_URL).
#[allow(unused_macros)] // not every test file uses it
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let store = super::sqlite_store().await;
                super::$name(super::app(store.clone()), store).await
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(store) = super::postgres_store().await {
                    super::$name(super::app(store.clone()), store).await
                }
            })*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;

use std::net::SocketAddr;

use api::app::App as Router;
use api::auth::Tokens;
use api::ratelimit::RateLimitConfig;
use api::store::Store;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "current-token-0123456789";
pub const PREVIOUS: &str = "previous-token-9876543210";
/// Small, so the 413 path is cheap to reach.
pub const MAX_BODY: usize = 1024;

pub const NO_LIMIT: RateLimitConfig = RateLimitConfig {
    per_second: 0,
    burst: 0,
    trust_forwarded_for: false,
};

pub async fn sqlite_store() -> Store {
    Store::connect("sqlite::memory:", 1)
        .await
        .expect("in-memory SQLite")
}

/// A fresh schema on the test PostgreSQL, or None (printing why) when there is none.
/// Panics instead when the test command promised one (`STACKCTL_TEST_REQUIRE_SERVICES=1`).
pub async fn postgres_store() -> Option<Store> {
    let scoped = kit::testing::postgres_schema("api").await?;
    Some(
        Store::connect(&scoped, 2)
            .await
            .expect("connect with the test schema"),
    )
}

pub fn tokens() -> Tokens {
    Tokens::new(Some(TOKEN), Some(PREVIOUS)).unwrap()
}

pub fn app(store: Store) -> Router {
    api::app::build(tokens(), store, NO_LIMIT, MAX_BODY)
}

pub async fn sqlite_app() -> Router {
    app(sqlite_store().await)
}

/// An answer, fully read.
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    /// Asserts a JSON error answer with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        let v = self.json();
        assert_eq!(v["error"], code, "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
}

/// A request under construction.
pub struct Req(Request<Body>);

impl Req {
    pub fn new(method: &str, uri: &str) -> Self {
        let mut r = Request::new(Body::empty());
        *r.method_mut() = Method::from_bytes(method.as_bytes()).unwrap();
        *r.uri_mut() = uri.parse().unwrap();
        Self(r)
    }
    pub fn get(uri: &str) -> Self {
        Self::new("GET", uri)
    }
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        self.0
            .headers_mut()
            .append(name, HeaderValue::from_bytes(value.as_ref()).unwrap());
        self
    }
    pub fn token(self, token: &str) -> Self {
        self.header("authorization", format!("Token {token}"))
    }
    pub fn authed(self) -> Self {
        self.token(TOKEN)
    }
    pub fn raw_body(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        if !content_type.is_empty() {
            self = self.header("content-type", content_type);
        }
        *self.0.body_mut() = body.into();
        self
    }
    pub fn json(self, value: Value) -> Self {
        self.raw_body("application/json", value.to_string())
    }
    pub fn client_ip(mut self, ip: [u8; 4]) -> Self {
        self.0
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        self
    }
    pub async fn send(self, app: &Router) -> Res {
        let res = app.clone().oneshot(self.0).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Res {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// Creates a payment through the versioned API and returns its id.
pub async fn create(app: &Router, amount: &str) -> i64 {
    let res = Req::new("POST", "/v1/payments")
        .authed()
        .json(serde_json::json!({"data": {"amount": amount}, "payment": amount}))
        .send(app)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

pub fn content_type(res: &Res) -> Option<&str> {
    res.headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap())
}
