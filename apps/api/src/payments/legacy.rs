//! The original payments paths: `/create`, `/update/{id}`, `/list`, `/delete/{id}`.

use axum::Json;
use axum::extract::State;

use super::model::{ListQuery, NewPayment, Payment, StatusUpdate};
use crate::auth::RequireToken;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PaymentId, QueryParams};
use crate::state::AppState;

/// Create a payment (status `inserted`); answers 200 like the original.
#[utoipa::path(post, path = "/create", tag = "payments (legacy)", security(("token" = [])),
    request_body = NewPayment,
    responses((status = 200, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    _: RequireToken,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewPayment>,
) -> Result<Json<Payment>, ApiError> {
    new.validate()?;
    Ok(Json(state.store.create(new.data.get(), new.payment).await?))
}

/// Change a payment's status.
#[utoipa::path(put, path = "/update/{id}", tag = "payments (legacy)", security(("token" = [])),
    params(("id" = i64, Path, description = "Payment id")), request_body = StatusUpdate,
    responses((status = 200, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    _: RequireToken,
    State(state): State<AppState>,
    PaymentId(id): PaymentId,
    JsonBody(update): JsonBody<StatusUpdate>,
) -> Result<Json<Payment>, ApiError> {
    let payment = state.store.set_status(id, update.status).await?;
    payment.map(Json).ok_or(ApiError::PaymentNotFound(id))
}

/// List payments, oldest first, one page at a time.
#[utoipa::path(get, path = "/list", tag = "payments (legacy)", security(("token" = [])),
    params(ListQuery),
    responses((status = 200, body = Vec<Payment>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    _: RequireToken,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Vec<Payment>>, ApiError> {
    let limit = q.limit()?;
    Ok(Json(state.store.list(q.after.unwrap_or(0), limit).await?))
}

/// Delete a payment; answers with the deleted payment.
#[utoipa::path(delete, path = "/delete/{id}", tag = "payments (legacy)", security(("token" = [])),
    params(("id" = i64, Path, description = "Payment id")),
    responses((status = 200, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn delete(
    _: RequireToken,
    State(state): State<AppState>,
    PaymentId(id): PaymentId,
) -> Result<Json<Payment>, ApiError> {
    let payment = state.store.delete(id).await?;
    payment.map(Json).ok_or(ApiError::PaymentNotFound(id))
}
