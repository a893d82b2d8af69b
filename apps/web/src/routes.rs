//! The handlers. A refused form is shown again, as typed, with the reason; a change that
//! worked redirects (303) to `/` with what to confirm in the query (Post/Redirect/Get).
//! When the users API is unavailable the page still renders, with an alert: 503 for the
//! list, 502 for an action the API could not carry out.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::{AppState, MAX_BODY_BYTES, html};
use crate::client::CallError;
use crate::page::{self, Field};
use crate::validate;

/// Users per page.
pub const PAGE: usize = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IndexQuery {
    msg: Option<String>,
    id: Option<String>,
    name: Option<String>,
    after: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    id: String,
    name: String,
}

pub fn unavailable(cause: &str) -> String {
    format!("The users service is unavailable right now: {cause}. Try again in a moment.")
}

/// What a refused or failed call shows: its status and alert.
fn failure(e: CallError) -> (StatusCode, String) {
    match e {
        CallError::Refused { status, message } => (status, validate::sentence(&message)),
        CallError::Unavailable(cause) => (StatusCode::BAD_GATEWAY, unavailable(&cause)),
    }
}

/// The list page as `status`, with `form` as typed and `alert`; lists the users when `list`.
struct Shown {
    status: StatusCode,
    notice: Option<String>,
    alert: Option<String>,
    invalid: Option<Field>,
    form: UserForm,
    after: Option<u64>,
    list: bool,
}

impl Shown {
    fn refused(status: StatusCode, alert: String, invalid: Option<Field>, form: UserForm) -> Self {
        Self {
            status,
            notice: None,
            alert: Some(alert),
            invalid,
            form,
            after: None,
            // Outages skip the list: it would only wait for the same timeout again.
            list: status != StatusCode::BAD_GATEWAY,
        }
    }
}

async fn render_index(state: &AppState, s: Shown) -> Response {
    let mut status = s.status;
    let mut alerts: Vec<String> = s.alert.into_iter().collect();
    let (mut users, mut next) = (None, None);
    if s.list {
        match state.users.list(s.after, PAGE + 1).await {
            Ok(mut list) => {
                if list.len() > PAGE {
                    list.truncate(PAGE);
                    next = list.last().map(|u| u.id);
                }
                users = Some(list);
            }
            Err(e) => {
                if status.is_success() {
                    status = StatusCode::SERVICE_UNAVAILABLE;
                }
                let alert = unavailable(&e.to_string());
                if !alerts.contains(&alert) {
                    alerts.push(alert);
                }
            }
        }
    }
    let body = page::index(&page::Index {
        notice: s.notice.as_deref(),
        alerts: &alerts,
        invalid: s.invalid,
        id: &s.form.id,
        name: &s.form.name,
        users: users.as_deref(),
        after: s.after,
        next,
    });
    html(status, body)
}

pub async fn index(
    State(state): State<AppState>,
    query: Result<Query<IndexQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let shown = Shown {
        status: StatusCode::OK,
        notice: notice(&q),
        alert: None,
        invalid: None,
        form: UserForm::default(),
        after: q.after.as_deref().and_then(validate::path_id),
        list: true,
    };
    render_index(&state, shown).await
}

/// The confirmation a redirect asked for; nothing for a query that does not follow the rules
/// (whatever is shown is escaped, and names follow the API's rules).
fn notice(q: &IndexQuery) -> Option<String> {
    let id = validate::id(q.id.as_deref()?).ok()?;
    let name = || validate::name(q.name.as_deref()?).ok();
    match q.msg.as_deref()? {
        "added" => Some(format!("Added user {id} ({}).", name()?)),
        "saved" => Some(format!("Saved user {id} ({}).", name()?)),
        "deleted" => Some(format!("Deleted user {id}.")),
        _ => None,
    }
}

/// `/?msg=…&id=…[&name=…]`, the name percent-encoded.
fn confirm(msg: &str, id: u64, name: Option<&str>) -> Response {
    let mut to = format!("/?msg={msg}&id={id}");
    if let Some(name) = name {
        to.push_str("&name=");
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                to.push(char::from(b));
            } else {
                to.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Redirect::to(&to).into_response()
}

/// A form that could not be read: 413 for a too large one (without calling the API), else
/// the status axum gives (400, 415 or 422) with the form again.
enum Unreadable {
    TooLarge(Response),
    Other(StatusCode),
}

fn unreadable(rejection: &FormRejection) -> Unreadable {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let body = page::error(
            "Too large",
            &format!(
                "The form sent was larger than {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
        );
        return Unreadable::TooLarge(html(status, body));
    }
    Unreadable::Other(status)
}

const UNREADABLE: &str = "The form could not be read. Fill it in and send it again.";

pub async fn add(
    _: SameSite,
    State(state): State<AppState>,
    form: Result<Form<UserForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return match unreadable(&rejection) {
                Unreadable::TooLarge(res) => res,
                Unreadable::Other(status) => {
                    let shown =
                        Shown::refused(status, UNREADABLE.into(), None, UserForm::default());
                    render_index(&state, shown).await
                }
            };
        }
    };
    let checked = validate::id(&form.id)
        .map_err(|m| (m, Field::Id))
        .and_then(|id| {
            Ok((
                id,
                validate::name(&form.name).map_err(|m| (m, Field::Name))?,
            ))
        });
    let (id, name) = match checked {
        Ok(ok) => ok,
        Err((message, field)) => {
            let alert = validate::sentence(&message);
            let shown = Shown::refused(StatusCode::UNPROCESSABLE_ENTITY, alert, Some(field), form);
            return render_index(&state, shown).await;
        }
    };
    match state.users.create(id, &name).await {
        Ok(user) => confirm("added", user.id, Some(&user.name)),
        Err(e) => {
            let field = match &e {
                CallError::Refused { status, .. } if *status == StatusCode::CONFLICT => {
                    Some(Field::Id)
                }
                CallError::Refused { .. } => Some(Field::Name),
                CallError::Unavailable(_) => None,
            };
            let (status, alert) = failure(e);
            render_index(&state, Shown::refused(status, alert, field, form)).await
        }
    }
}

fn not_found(message: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        page::error("Page not found", message),
    )
}

const NO_PAGE: &str = "There is no page at this address.";

/// The user ID in the path; the 404 page for anything else, a segment that is not UTF-8
/// included.
pub struct UserPath(u64);

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(raw)| validate::path_id(&raw))
            .map(Self)
            .ok_or_else(|| not_found(NO_PAGE))
    }
}

/// Refuses a form another site made the browser send (cross-site request forgery): browsers
/// say where a request comes from in `Sec-Fetch-Site`.
pub struct SameSite;

impl<S: Send + Sync> FromRequestParts<S> for SameSite {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match parts.headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
            Some(b"cross-site") => Err(html(
                StatusCode::FORBIDDEN,
                page::error(
                    "Not allowed",
                    "This form was sent from another web site. Use the form on this site.",
                ),
            )),
            _ => Ok(Self),
        }
    }
}

pub async fn edit(State(state): State<AppState>, UserPath(id): UserPath) -> Response {
    match state.users.get(id).await {
        Ok(user) => html(StatusCode::OK, page::edit(id, &user.name, &[], false)),
        Err(CallError::Refused { status, message }) if status == StatusCode::NOT_FOUND => {
            not_found(&validate::sentence(&message))
        }
        Err(e) => {
            let (status, alert) = failure(e);
            // The form stays usable: a new name does not need the old one.
            html(status, page::edit(id, "", &[alert], false))
        }
    }
}

pub async fn save(
    _: SameSite,
    State(state): State<AppState>,
    UserPath(id): UserPath,
    form: Result<Form<UserForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return match unreadable(&rejection) {
                Unreadable::TooLarge(res) => res,
                Unreadable::Other(status) => {
                    html(status, page::edit(id, "", &[UNREADABLE.into()], false))
                }
            };
        }
    };
    let name = match validate::name(&form.name) {
        Ok(name) => name,
        Err(message) => {
            let alerts = [validate::sentence(&message)];
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                page::edit(id, &form.name, &alerts, true),
            );
        }
    };
    match state.users.rename(id, &name).await {
        Ok(user) => confirm("saved", user.id, Some(&user.name)),
        Err(CallError::Refused { status, message }) if status == StatusCode::NOT_FOUND => {
            not_found(&validate::sentence(&message))
        }
        Err(e) => {
            let invalid = matches!(e, CallError::Refused { .. });
            let (status, alert) = failure(e);
            html(status, page::edit(id, &form.name, &[alert], invalid))
        }
    }
}

pub async fn delete(
    _: SameSite,
    State(state): State<AppState>,
    UserPath(id): UserPath,
) -> Response {
    match state.users.delete(id).await {
        // Already gone (a second click, another tab): what was asked for is done.
        Ok(())
        | Err(CallError::Refused {
            status: StatusCode::NOT_FOUND,
            ..
        }) => confirm("deleted", id, None),
        Err(e) => {
            let (status, alert) = failure(e);
            render_index(
                &state,
                Shown::refused(status, alert, None, UserForm::default()),
            )
            .await
        }
    }
}

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // Pages link it as /style.css?v=<hash of its content>: a new version is a new URL.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        page::STYLE,
    )
        .into_response()
}

/// `/healthz` and `/status`: web itself answers. This deliberately does not call the users
/// API: the load balancer's health check would otherwise take every web task out of service
/// (and ECS would replace them) whenever users is down, while the pages still work and say
/// the users service is unavailable.
pub async fn health() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
