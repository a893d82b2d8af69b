//! Token authentication, compatible with Flask-HTTPAuth 3.2.3's `HTTPTokenAuth("Token")`.
//!
//! That library splits the `Authorization` value once on whitespace (Python's `str.split(None,
//! 1)` on the latin-1 decoded header), compares the scheme case-insensitively with `Token`, and
//! treats anything else (no header, no credentials, another scheme) as an empty token.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

pub const WWW_AUTHENTICATE: &str = "Token realm=\"Authentication Required\"";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error(
        "API_TOKEN is unset or empty: refusing to start (the original app let every request \
         through in that case); set API_TOKEN to a secret"
    )]
    Missing,
    #[error("{0} must be printable ASCII without spaces (a header could never carry it intact)")]
    Invalid(&'static str),
}

/// The accepted tokens: the current one and, during a rotation, the previous one.
pub struct Tokens {
    current: Box<[u8]>,
    previous: Option<Box<[u8]>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

impl Tokens {
    /// `current` must be set; an empty `previous` counts as unset.
    pub fn new(current: Option<&str>, previous: Option<&str>) -> Result<Self, TokenError> {
        let current = current
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::Missing)?;
        check("API_TOKEN", current)?;
        let previous = match previous.filter(|t| !t.is_empty()) {
            Some(p) => Some(check("API_TOKEN_PREVIOUS", p)?),
            None => None,
        };
        Ok(Self {
            current: current.as_bytes().into(),
            previous,
        })
    }

    /// Constant-time check of a presented token against both accepted tokens.
    pub fn verify(&self, presented: &[u8]) -> bool {
        let a = ct_eq(presented, &self.current);
        let b = self
            .previous
            .as_deref()
            .is_some_and(|p| ct_eq(presented, p));
        a | b
    }

    /// True when the request's `Authorization` header carries an accepted token.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(first) = values.next() else {
            return false;
        };
        match values.next() {
            None => token_from_header(first.as_bytes()).is_some_and(|t| self.verify(t)),
            // WSGI servers join repeated headers with a comma; so do we.
            Some(second) => {
                let mut joined = first.as_bytes().to_vec();
                for v in std::iter::once(second).chain(values) {
                    joined.push(b',');
                    joined.extend_from_slice(v.as_bytes());
                }
                token_from_header(&joined).is_some_and(|t| self.verify(t))
            }
        }
    }
}

fn check(name: &'static str, token: &str) -> Result<Box<[u8]>, TokenError> {
    if token.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(token.as_bytes().into())
    } else {
        Err(TokenError::Invalid(name))
    }
}

/// Python's `str.isspace()` for a latin-1 character.
fn py_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=0x1f | b' ' | 0x85 | 0xa0)
}

/// The credentials of a `Token` authorization header value, exactly as Flask-HTTPAuth finds them.
pub fn token_from_header(value: &[u8]) -> Option<&[u8]> {
    // The usual `Token <credentials>`: the same answer as the general split below, sooner.
    if let Some((scheme, rest)) = value.split_at_checked(6)
        && scheme.eq_ignore_ascii_case(b"token ")
        && rest.first().is_some_and(|&b| !py_space(b))
    {
        return Some(rest);
    }
    let start = value.iter().position(|&b| !py_space(b))?;
    let value = &value[start..];
    let end = value.iter().position(|&b| py_space(b))?;
    let (scheme, rest) = value.split_at(end);
    let cred_start = rest.iter().position(|&b| !py_space(b))?;
    scheme
        .eq_ignore_ascii_case(b"token")
        .then_some(&rest[cred_start..])
}

/// Compares in time that depends only on the lengths: every byte of the longer input is
/// looked at, eight at a time, the shorter one padded with zeros. `subtle` does the comparing
/// (its slice `ct_eq` returns early when the lengths differ, which would time the token's length).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    fn word(s: &[u8], i: usize) -> u64 {
        match s.get(i..i + 8) {
            Some(w) => u64::from_le_bytes(w.try_into().unwrap_or_default()),
            None => {
                let mut w = [0u8; 8];
                for (j, &byte) in s.iter().skip(i).take(8).enumerate() {
                    w[j] = byte;
                }
                u64::from_le_bytes(w)
            }
        }
    }
    let mut eq = (a.len() as u64).ct_eq(&(b.len() as u64));
    for i in (0..a.len().max(b.len())).step_by(8) {
        eq &= word(a, i).ct_eq(&word(b, i));
    }
    eq.into()
}

/// Extractor guarding a handler: rejects with 401 unless the request carries an accepted token.
/// As in Flask, it runs after routing, so unknown paths and methods get 404/405 first.
pub struct RequireToken;

impl FromRequestParts<AppState> for RequireToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.tokens.authorized(&parts.headers) {
            Ok(Self)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

pub type SharedTokens = Arc<Tokens>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_flask_httpauth() {
        let t = |v: &[u8]| token_from_header(v).map(<[u8]>::to_vec);
        assert_eq!(t(b"Token abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"tOKEN abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"\tToken \t abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"Token\xa0abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"Token\x85abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"Token a b "), Some(b"a b ".to_vec()));
        assert_eq!(t(b"Token"), None);
        assert_eq!(t(b"Token   "), None);
        assert_eq!(t(b""), None);
        assert_eq!(t(b"Bearer abc"), None);
        assert_eq!(t(b"Tokenabc"), None);
        assert_eq!(t(b"Token  abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"Token \xa0abc"), Some(b"abc".to_vec()));
        assert_eq!(t(b"token x"), Some(b"x".to_vec()));
        assert_eq!(t(b"Token "), None);
        assert_eq!(t(b" Token abc"), Some(b"abc".to_vec()));
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(!ct_eq(b"", b"a"));
        assert!(ct_eq(b"", b""));
        // Across the eight-byte words and their zero padding.
        let long = b"0123456789abcdefXYZ";
        for n in 0..=long.len() {
            assert!(ct_eq(&long[..n], &long[..n]));
            for m in 0..=long.len() {
                assert_eq!(ct_eq(&long[..n], &long[..m]), n == m, "{n} {m}");
            }
            let mut other = long[..n].to_vec();
            if let Some(last) = other.last_mut() {
                *last ^= 1;
                assert!(!ct_eq(&long[..n], &other));
            }
        }
        assert!(!ct_eq(b"ab\0", b"ab"), "padding is not equality");
    }

    #[test]
    fn token_validation() {
        assert_eq!(Tokens::new(None, None).unwrap_err(), TokenError::Missing);
        assert_eq!(
            Tokens::new(Some(""), None).unwrap_err(),
            TokenError::Missing
        );
        assert_eq!(
            Tokens::new(Some("a b"), None).unwrap_err(),
            TokenError::Invalid("API_TOKEN")
        );
        assert_eq!(
            Tokens::new(Some("ok"), Some("é")).unwrap_err(),
            TokenError::Invalid("API_TOKEN_PREVIOUS")
        );
        let t = Tokens::new(Some("new"), Some("")).unwrap();
        assert!(t.verify(b"new") && !t.verify(b"") && !t.verify(b"old"));
        let t = Tokens::new(Some("new"), Some("old")).unwrap();
        assert!(t.verify(b"new") && t.verify(b"old") && !t.verify(b"ne"));
        assert_eq!(format!("{t:?}"), "Tokens(<redacted>)");
    }
}
