//! Payment resources and their JSON input shapes.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::money::Money;

/// Read from a string, so a wrong type is a 422 like any other invalid value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Status {
    Inserted,
    Consumed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inserted => "inserted",
            Self::Consumed => "consumed",
        }
    }

    pub fn from_db(s: &str) -> Self {
        Self::try_from(s.to_string()).unwrap_or(Self::Inserted)
    }
}

impl TryFrom<String> for Status {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "inserted" => Ok(Self::Inserted),
            "consumed" => Ok(Self::Consumed),
            _ => Err(format!(
                "unknown status {s:?}, expected \"inserted\" or \"consumed\""
            )),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    /// Server-assigned unique id.
    pub id: i64,
    pub status: Status,
    /// The payment input, returned as it was given.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
    /// Exact amount with two decimals, as a string.
    #[schema(value_type = String, example = "12.34", pattern = r"^\d{1,5}\.\d{2}$")]
    pub payment: Money,
}

/// Body of a create request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// Any JSON object, nested at most 64 levels.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
    /// Amount: a number (`12.34`) or a string (`"12.34"`), 0.00 to 99999.99, two decimals.
    #[schema(value_type = String, example = "12.34")]
    pub payment: Money,
}

/// The deepest nesting `data` may have. It is stored and returned verbatim, so deeper data
/// would make pages (which wrap it in 3 more levels) unreadable to common JSON parsers
/// (serde_json stops at 128 levels, Ruby at 100).
pub const MAX_DATA_DEPTH: usize = 64;

impl NewPayment {
    /// `data` must be a JSON object nested at most [`MAX_DATA_DEPTH`] levels; the text is kept
    /// verbatim.
    pub fn validate(&self) -> Result<(), ApiError> {
        if !self.data.get().starts_with('{') {
            return Err(ApiError::Unprocessable("data must be a JSON object".into()));
        }
        if depth(self.data.get()) > MAX_DATA_DEPTH {
            return Err(ApiError::Unprocessable(format!(
                "data must not be nested deeper than {MAX_DATA_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

/// The nesting depth of valid JSON text (`{}` is 1), in one pass without recursion.
fn depth(json: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0, false, false);
    for b in json.bytes() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Body of a status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: Status,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// Keyset pagination: payments with `id > after`, oldest first.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Return payments whose id is greater than this (the previous page's `next_after`).
    pub after: Option<i64>,
}

impl ListQuery {
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n @ 1..=MAX_LIMIT) => Ok(n),
            Some(_) => Err(ApiError::BadRequest(format!(
                "limit must be 1 to {MAX_LIMIT}"
            ))),
        }
    }
}

/// A page of payments (versioned API).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    /// Pass as `after` to get the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// Parses a path id: a positive integer, else 400.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadRequest(format!(
            "invalid payment id {raw:?}: expected a positive integer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(depth("{}"), 1);
        assert_eq!(depth(r#"{"a":[1,{"b":[]}],"c":{}}"#), 4);
        assert_eq!(depth(r#"{"a":"[[[{{{\"[[","b":"\\"}"#), 1);
        assert_eq!(
            depth(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
            100_000
        );
    }
}
