//! The users API client: plain HTTP/1 (inside the VPC), pooled connections, one timeout per
//! call covering connect, request and the whole answer.

use std::error::Error as _;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The largest answer read (a page of 1000 users of 100 characters fits).
const MAX_ANSWER: usize = 1 << 20;

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct User {
    pub id: u64,
    pub name: String,
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<User>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The API refused the request (400, 404, 409 or 422) with a message for the user.
    #[error("{message}")]
    Refused { status: StatusCode, message: String },
    /// The API could not be reached or its answer not used: a short cause, without a period.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct Users {
    http: Client<HttpConnector, Full<Bytes>>,
    /// `http://host:port`.
    base: String,
    timeout: Duration,
}

impl Users {
    pub fn new(base: &str, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            // Idle connections are closed before load balancers and NATs commonly drop them.
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    /// Up to `limit` users with an ID above `after`, by ID.
    pub async fn list(&self, after: Option<u64>, limit: usize) -> Result<Vec<User>, CallError> {
        let path = match after {
            Some(after) => format!("/users?after={after}&limit={limit}"),
            None => format!("/users?limit={limit}"),
        };
        let (status, body) = self.call(Method::GET, &path, None).await?;
        // Listing has nothing the user could correct: any refusal means the API is unwell.
        match answer::<UserList>(status, &body) {
            Ok(list) => Ok(list.users),
            Err(CallError::Refused { status, .. }) => Err(CallError::Unavailable(format!(
                "it answered HTTP {}",
                status.as_u16()
            ))),
            Err(e) => Err(e),
        }
    }

    pub async fn get(&self, id: u64) -> Result<User, CallError> {
        let (status, body) = self
            .call(Method::GET, &format!("/users/{id}"), None)
            .await?;
        answer(status, &body)
    }

    pub async fn create(&self, id: u64, name: &str) -> Result<User, CallError> {
        let body = serde_json::json!({ "id": id, "name": name });
        let (status, body) = self.call(Method::POST, "/users", Some(body)).await?;
        // POST /users is never 404 from the users API: USERS_URL points at something else.
        if status == StatusCode::NOT_FOUND {
            return Err(CallError::Unavailable(
                "USERS_URL does not lead to the users API (HTTP 404)".into(),
            ));
        }
        answer(status, &body)
    }

    pub async fn rename(&self, id: u64, name: &str) -> Result<User, CallError> {
        let body = serde_json::json!({ "name": name });
        let path = format!("/users/{id}");
        let (status, body) = self.call(Method::PUT, &path, Some(body)).await?;
        answer(status, &body)
    }

    pub async fn delete(&self, id: u64) -> Result<(), CallError> {
        let path = format!("/users/{id}");
        let (status, body) = self.call(Method::DELETE, &path, None).await?;
        if status.is_success() {
            return Ok(());
        }
        answer::<serde::de::IgnoredAny>(status, &body).map(|_| ())
    }

    /// One exchange, bounded by the timeout: the answer's status and body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        json: Option<serde_json::Value>,
    ) -> Result<(StatusCode, Bytes), CallError> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json");
        if json.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let body = json.map(|j| Bytes::from(j.to_string())).unwrap_or_default();
        let req = req
            .body(Full::new(body))
            .map_err(|e| CallError::Unavailable(format!("cannot build the request ({e})")))?;
        let exchange = async {
            let res = self.http.request(req).await.map_err(|e| {
                tracing::warn!(error = %chain(&e), "users API call failed");
                CallError::Unavailable(cause(&e))
            })?;
            let status = res.status();
            let body = Limited::new(res.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| {
                    CallError::Unavailable("its answer was cut short or too large".into())
                })?;
            Ok((status, body.to_bytes()))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    timeout_s = self.timeout.as_secs_f64(),
                    "users API timed out"
                );
                Err(CallError::Unavailable(format!(
                    "no answer within {} s",
                    self.timeout.as_secs_f64()
                )))
            }
        }
    }
}

/// The expected JSON of a 2xx answer; the API's message for a 400, 404, 409 or 422; the
/// service is unavailable for anything else.
fn answer<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, CallError> {
    if status.is_success() {
        return serde_json::from_slice(body)
            .map_err(|_| CallError::Unavailable("its answer was not the JSON expected".into()));
    }
    let error = serde_json::from_slice::<ErrorBody>(body).ok();
    match status.as_u16() {
        400 | 404 | 409 | 422 => Err(CallError::Refused {
            status,
            message: error
                .map(|e| e.message)
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| format!("the users service refused it (HTTP {status})")),
        }),
        code => Err(CallError::Unavailable(match error {
            Some(e) if !e.error.is_empty() && e.error.len() <= 40 => {
                format!("it answered HTTP {code} ({})", e.error)
            }
            _ => format!("it answered HTTP {code}"),
        })),
    }
}

/// A short cause for the page, from the innermost I/O error when there is one.
fn cause(e: &hyper_util::client::legacy::Error) -> String {
    use std::io::ErrorKind::*;
    let mut io = None;
    let mut innermost = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(x) = s.downcast_ref::<std::io::Error>() {
            io = Some(x.kind());
        }
        innermost = s.to_string();
        source = s.source();
    }
    match io {
        Some(ConnectionRefused) => "connection refused".into(),
        Some(TimedOut) => "the connection timed out".into(),
        Some(ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof) => {
            "the connection was closed".into()
        }
        _ if e.is_connect() => format!("cannot connect ({innermost})"),
        _ => format!("the request failed ({innermost})"),
    }
}

/// The whole error chain, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let ok: User = answer(StatusCode::CREATED, br#"{"id":1,"name":"Ada"}"#).unwrap();
        assert_eq!(ok.name, "Ada");
        let body = br#"{"error":"conflict","message":"a user with id 1 already exists"}"#;
        assert_eq!(
            answer::<User>(StatusCode::CONFLICT, body).unwrap_err(),
            CallError::Refused {
                status: StatusCode::CONFLICT,
                message: "a user with id 1 already exists".into()
            }
        );
        let down = br#"{"error":"storage_unavailable","message":"database down"}"#;
        assert_eq!(
            answer::<User>(StatusCode::SERVICE_UNAVAILABLE, down).unwrap_err(),
            CallError::Unavailable("it answered HTTP 503 (storage_unavailable)".into())
        );
        assert_eq!(
            answer::<User>(StatusCode::OK, b"<html>").unwrap_err(),
            CallError::Unavailable("its answer was not the JSON expected".into())
        );
        assert!(matches!(
            answer::<User>(StatusCode::NOT_FOUND, b"nope").unwrap_err(),
            CallError::Refused { message, .. } if message.contains("HTTP 404")
        ));
    }
}
