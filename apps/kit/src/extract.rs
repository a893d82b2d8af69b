//! Reading a JSON request body with every failure told apart, for the apps' extractors (each
//! maps [`BodyError`] onto its own JSON error).

use axum::extract::Request;
use axum::http::header;
use http_body_util::{BodyExt, Collected, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// 415: no JSON `Content-Type`.
    #[error("request body must be JSON (Content-Type: application/json)")]
    NotJson,
    /// 413: over the limit (in bytes).
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 400: unreadable or not JSON.
    #[error("{0}")]
    Malformed(String),
    /// 422: JSON of the wrong shape (types, unknown or missing fields).
    #[error("{0}")]
    Invalid(String),
}

/// The body of `req` as a `T`, read up to `max_bytes`.
pub async fn json_body<T: DeserializeOwned>(
    req: Request,
    max_bytes: usize,
) -> Result<T, BodyError> {
    if !is_json(req.headers().get(header::CONTENT_TYPE)) {
        return Err(BodyError::NotJson);
    }
    let bytes = Limited::new(req.into_body(), max_bytes)
        .collect()
        .await
        .map(Collected::to_bytes)
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                BodyError::TooLarge(max_bytes)
            } else {
                BodyError::Malformed(format!("cannot read the request body: {e}"))
            }
        })?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        Category::Data => BodyError::Invalid(e.to_string()),
        _ => BodyError::Malformed(format!("malformed JSON: {e}")),
    })
}

/// `application/json` or `application/*+json`, any parameters.
pub fn is_json(value: Option<&header::HeaderValue>) -> bool {
    let Some(mime) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let ok = |s: &'static str| is_json(Some(&header::HeaderValue::from_static(s)));
        assert!(ok("application/json"));
        assert!(ok("Application/JSON; charset=utf-8"));
        assert!(ok("application/merge-patch+json"));
        assert!(!ok("text/plain"));
        assert!(!ok("application/jsonx"));
        assert!(!is_json(None));
    }
}
