//! The API's error type: every failure becomes a JSON body `{"error": CODE, "message": TEXT}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("missing or invalid token")]
    Unauthorized,
    #[error("no payment with id {0}")]
    PaymentNotFound(i64),
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many requests, retry in {0} s")]
    RateLimited(u64),
    /// The database failed or is unreachable: not the client's fault, not a bug either.
    #[error("storage unavailable")]
    Storage(sqlx::Error),
    /// Deployed without a database (`DATABASE=none`).
    #[error("{0}")]
    NoDatabase(crate::store::NoDatabase),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Configuration(inner) => match inner.downcast::<crate::store::NoDatabase>()
            {
                Ok(no) => Self::NoDatabase(*no),
                Err(inner) => Self::Storage(sqlx::Error::Configuration(inner)),
            },
            other => Self::Storage(other),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`.
    pub error: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::PaymentNotFound(_) | Self::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Storage(_) | Self::NoDatabase(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unprocessable(_) => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::PaymentNotFound(_) | Self::RouteNotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RateLimited(_) => "rate_limited",
            Self::Storage(_) => "storage_unavailable",
            Self::NoDatabase(_) => "no_database",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Storage(e) = &self {
            tracing::error!(error = %e, "storage error");
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.to_string(),
        };
        let mut res = (self.status(), Json(body)).into_response();
        match self {
            Self::Unauthorized => {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(crate::auth::WWW_AUTHENTICATE),
                );
            }
            Self::RateLimited(secs) => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            _ => {}
        }
        res
    }
}
