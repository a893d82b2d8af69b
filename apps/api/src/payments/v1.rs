//! `/v1/payments`: the same resources, RESTful (201 + `Location`, 404, 204).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::model::{ListQuery, NewPayment, Payment, PaymentPage, StatusUpdate};
use crate::auth::RequireToken;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PaymentId, QueryParams};
use crate::state::AppState;

const TAG: &str = "payments";

/// Create a payment (status `inserted`).
#[utoipa::path(post, path = "/v1/payments", tag = TAG, security(("token" = [])),
    request_body = NewPayment,
    responses((status = 201, body = Payment, headers(("Location" = String, description = "URL of the new payment"))),
        (status = "4XX", body = ErrorBody)))]
pub async fn create(
    _: RequireToken,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewPayment>,
) -> Result<impl IntoResponse, ApiError> {
    new.validate()?;
    let payment = state.store.create(new.data.get(), new.payment).await?;
    let location = format!("/v1/payments/{}", payment.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(payment),
    ))
}

/// List payments, oldest first; follow `next_after` for the next page.
#[utoipa::path(get, path = "/v1/payments", tag = TAG, security(("token" = [])), params(ListQuery),
    responses((status = 200, body = PaymentPage), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    _: RequireToken,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<PaymentPage>, ApiError> {
    let limit = q.limit()?;
    let payments = state.store.list(q.after.unwrap_or(0), limit).await?;
    let next_after = (payments.len() == limit as usize)
        .then(|| payments.last().map(|p| p.id))
        .flatten();
    Ok(Json(PaymentPage {
        payments,
        next_after,
    }))
}

/// Get one payment.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = TAG, security(("token" = [])),
    params(("id" = i64, Path, description = "Payment id")),
    responses((status = 200, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    _: RequireToken,
    State(state): State<AppState>,
    PaymentId(id): PaymentId,
) -> Result<Json<Payment>, ApiError> {
    state
        .store
        .get(id)
        .await?
        .map(Json)
        .ok_or(ApiError::PaymentNotFound(id))
}

/// Change a payment's status.
#[utoipa::path(patch, path = "/v1/payments/{id}", tag = TAG, security(("token" = [])),
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

/// Delete a payment.
#[utoipa::path(delete, path = "/v1/payments/{id}", tag = TAG, security(("token" = [])),
    params(("id" = i64, Path, description = "Payment id")),
    responses((status = 204, description = "Deleted"), (status = "4XX", body = ErrorBody)))]
pub async fn delete(
    _: RequireToken,
    State(state): State<AppState>,
    PaymentId(id): PaymentId,
) -> Result<StatusCode, ApiError> {
    match state.store.delete(id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::PaymentNotFound(id)),
    }
}
