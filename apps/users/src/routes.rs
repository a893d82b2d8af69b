//! `/users`: list, create, get, rename, delete (201 + `Location`, 404, 409, 204).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::error::{ErrorBody, UsersError};
use crate::extract::{JsonBody, QueryParams, UserId};
use crate::model::{ListQuery, NewUser, User, UserPage, UserUpdate, check_id, check_name};

const TAG: &str = "users";

/// List users by ID; follow `next_after` for the next page.
#[utoipa::path(get, path = "/users", tag = TAG, params(ListQuery),
    responses((status = 200, body = UserPage), (status = "4XX", body = ErrorBody),
        (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<UserPage>, UsersError> {
    let limit = q.limit()?;
    let users = state.store.list(q.after.unwrap_or(0), limit).await?;
    let next_after = (users.len() == limit as usize)
        .then(|| users.last().map(|u| u.id))
        .flatten();
    Ok(Json(UserPage { users, next_after }))
}

/// Create a user with the given ID; 409 if the ID is taken.
#[utoipa::path(post, path = "/users", tag = TAG, request_body = NewUser,
    responses((status = 201, body = User, headers(("Location" = String, description = "URL of the new user"))),
        (status = 409, description = "The ID is taken", body = ErrorBody),
        (status = "4XX", body = ErrorBody), (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewUser>,
) -> Result<impl IntoResponse, UsersError> {
    let id = check_id(new.id)?;
    let name = check_name(&new.name)?;
    let user = state
        .store
        .create(id, &name)
        .await?
        .ok_or(UsersError::Conflict(id))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/users/{id}"))],
        Json(user),
    ))
}

/// Get one user.
#[utoipa::path(get, path = "/users/{id}", tag = TAG,
    params(("id" = i64, Path, description = "User ID")),
    responses((status = 200, body = User), (status = "4XX", body = ErrorBody),
        (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Json<User>, UsersError> {
    state
        .store
        .get(id)
        .await?
        .map(Json)
        .ok_or(UsersError::NotFound(id))
}

/// Rename a user.
#[utoipa::path(put, path = "/users/{id}", tag = TAG, request_body = UserUpdate,
    params(("id" = i64, Path, description = "User ID")),
    responses((status = 200, body = User), (status = "4XX", body = ErrorBody),
        (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    UserId(id): UserId,
    JsonBody(update): JsonBody<UserUpdate>,
) -> Result<Json<User>, UsersError> {
    if let Some(other) = update.id.filter(|other| *other != id) {
        return Err(UsersError::Unprocessable(format!(
            "the body's id ({other}) is not the path's ({id}): a user's ID cannot change"
        )));
    }
    let name = check_name(&update.name)?;
    state
        .store
        .rename(id, &name)
        .await?
        .map(Json)
        .ok_or(UsersError::NotFound(id))
}

/// Delete a user.
#[utoipa::path(delete, path = "/users/{id}", tag = TAG,
    params(("id" = i64, Path, description = "User ID")),
    responses((status = 204, description = "Deleted"), (status = "4XX", body = ErrorBody),
        (status = 503, description = "Storage unreachable", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, UsersError> {
    if state.store.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(UsersError::NotFound(id))
    }
}
