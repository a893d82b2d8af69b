//! Request extractors whose every rejection is a JSON `UsersError`.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use kit::extract::BodyError;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::UsersError;

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 when malformed,
/// 422 for wrong types or unknown fields.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = UsersError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, UsersError> {
        kit::extract::json_body(req, state.max_body_bytes)
            .await
            .map(Self)
            .map_err(|e| match e {
                BodyError::NotJson => UsersError::UnsupportedMediaType,
                BodyError::TooLarge(n) => UsersError::PayloadTooLarge(n),
                BodyError::Malformed(m) => UsersError::BadRequest(m),
                BodyError::Invalid(m) => UsersError::Unprocessable(m),
            })
    }
}

/// Query parameters: 400 on unknown names or bad values.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = UsersError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UsersError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| UsersError::BadRequest(e.body_text()))
    }
}

/// A user id path segment: 400 unless a positive integer.
pub struct UserId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = UsersError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UsersError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| UsersError::BadRequest(e.body_text()))?;
        crate::model::parse_id(&raw).map(Self)
    }
}
