//! Users and the rules their fields follow (the web front end checks the same ones first).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::UsersError;

/// The largest ID: JavaScript's `Number.MAX_SAFE_INTEGER`, so every client reads IDs exactly.
pub const MAX_ID: i64 = 9_007_199_254_740_991;
/// The longest name, in characters, after trimming.
pub const MAX_NAME: usize = 100;
/// Most users one list request returns.
pub const MAX_LIMIT: u32 = 1000;
pub const DEFAULT_LIMIT: u32 = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Chosen by the client: 1 to 9007199254740991.
    #[schema(minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub id: i64,
    /// 1 to 100 characters, trimmed, no control characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// `POST /users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: i64,
    pub name: String,
}

/// `PUT /users/{id}`: the new name (an `id`, if sent, must be the path's).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    /// Sorted by ID.
    pub users: Vec<User>,
    /// When more users follow: pass it as `after` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only users with a greater ID.
    pub after: Option<i64>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

impl ListQuery {
    pub fn limit(&self) -> Result<u32, UsersError> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n),
            n => Err(UsersError::BadRequest(format!(
                "limit must be 1 to {MAX_LIMIT} (got {n})"
            ))),
        }
    }
}

/// An ID from a body: 1 to [`MAX_ID`].
pub fn check_id(id: i64) -> Result<i64, UsersError> {
    if (1..=MAX_ID).contains(&id) {
        Ok(id)
    } else {
        Err(UsersError::Unprocessable(format!(
            "id must be a positive integer up to {MAX_ID} (got {id})"
        )))
    }
}

/// An ID from the path: 400 unless 1 to [`MAX_ID`] in plain digits.
pub fn parse_id(raw: &str) -> Result<i64, UsersError> {
    match raw.parse::<i64>() {
        Ok(id) if raw.bytes().all(|b| b.is_ascii_digit()) && (1..=MAX_ID).contains(&id) => Ok(id),
        _ => Err(UsersError::BadRequest(format!(
            "the user id in the path must be a positive integer up to {MAX_ID} (got {:?})",
            truncate(raw, 40)
        ))),
    }
}

/// The name as stored: trimmed, 1 to [`MAX_NAME`] characters, no control characters
/// (PostgreSQL refuses NUL in text; the others break log lines and pages).
pub fn check_name(name: &str) -> Result<String, UsersError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(UsersError::Unprocessable("name must not be empty".into()));
    }
    if chars > MAX_NAME {
        return Err(UsersError::Unprocessable(format!(
            "name must be at most {MAX_NAME} characters (got {chars})"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(UsersError::Unprocessable(
            "name must not contain control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(check_id(1).unwrap(), 1);
        assert_eq!(check_id(MAX_ID).unwrap(), MAX_ID);
        for bad in [0, -1, MAX_ID + 1, i64::MIN] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_id("42").unwrap(), 42);
        for bad in ["0", "-1", "+1", "1.0", " 1", "abc", "", "9007199254740992"] {
            assert!(parse_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(check_name("  Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert_eq!(check_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        assert!(check_name(&"é".repeat(101)).is_err());
        assert!(check_name("   ").is_err());
        assert!(check_name("a\0b").is_err());
        assert!(check_name("a\u{7f}b").is_err());
        assert_eq!(
            check_name(&"x".repeat(101)).unwrap_err().to_string(),
            "name must be at most 100 characters (got 101)"
        );
    }
}
