//! `/`: the original Flask app's only route, reproduced byte for byte (Flask 0.12,
//! Werkzeug 0.16, Flask-HTTPAuth 3.2.3), including its method handling.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::state::AppState;

pub const BODY: &str = "devops test server flying!!";
pub const UNAUTHORIZED: &str = "Unauthorized Access";
pub const ALLOW: &str = "GET, HEAD, OPTIONS";
pub const METHOD_NOT_ALLOWED: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n\
<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n\
<p>The method is not allowed for the requested URL.</p>\n";
const HTML_UTF8: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// The original route: the token-protected greeting.
#[utoipa::path(
    get,
    path = "/",
    tag = "compat",
    security(("token" = [])),
    responses(
        (status = 200, description = "The token is valid", body = String, content_type = "text/html; charset=utf-8", example = json!(BODY)),
        (status = 401, description = "Missing, malformed or wrong token", body = String, content_type = "text/html; charset=utf-8", example = json!(UNAUTHORIZED)),
    )
)]
pub async fn index(State(state): State<AppState>, req: Request) -> Response {
    // Werkzeug answers OPTIONS itself and rejects other methods before the view (and its
    // authentication) runs; HEAD runs the GET view and drops the body.
    match *req.method() {
        Method::GET | Method::HEAD if state.tokens.authorized(req.headers()) => {
            html(StatusCode::OK, BODY)
        }
        Method::GET | Method::HEAD => {
            let mut res = html(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(crate::auth::WWW_AUTHENTICATE),
            );
            res
        }
        Method::OPTIONS => {
            let mut res = html(StatusCode::OK, "");
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
            res
        }
        _ => {
            let mut res = html(StatusCode::METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED);
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            h.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
            res
        }
    }
}

fn html(status: StatusCode, body: &'static str) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HTML_UTF8);
    res
}

/// Werkzeug serves `/` for any path made only of slashes, encoded (`%2F`) or not.
pub fn is_root_alias(path: &str) -> bool {
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('/') {
            rest = r;
        // `get`, not `[..3]`: hyper passes raw UTF-8 in paths, and byte 3 may split a char.
        } else if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("%2f")) {
            rest = &rest[3..];
        } else {
            return false;
        }
    }
    path.len() > 1
}
