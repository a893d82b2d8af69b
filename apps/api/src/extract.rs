//! Request extractors whose every rejection is a JSON `ApiError`.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use kit::extract::BodyError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 when malformed,
/// 422 for wrong types, unknown fields or invalid values.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        kit::extract::json_body(req, state.max_body_bytes)
            .await
            .map(Self)
            .map_err(|e| match e {
                BodyError::NotJson => ApiError::UnsupportedMediaType,
                BodyError::TooLarge(n) => ApiError::PayloadTooLarge(n),
                BodyError::Malformed(m) => ApiError::BadRequest(m),
                BodyError::Invalid(m) => ApiError::Unprocessable(m),
            })
    }
}

/// Query parameters: 400 on unknown names or bad values.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// A payment id path segment: 400 unless a positive integer.
pub struct PaymentId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PaymentId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        crate::payments::model::parse_id(&raw).map(Self)
    }
}
