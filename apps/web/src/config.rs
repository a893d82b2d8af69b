//! Settings from the environment, validated before the server starts.

use std::time::Duration;

use axum::http::uri::Authority;
use kit::config::{Invalid, num, seconds};

pub const DEFAULT_USERS_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug)]
pub struct Config {
    pub port: u16,
    /// The users API, as `http://host:port` (no trailing slash).
    pub users_url: String,
    /// How long one call to the users API may take, connecting included.
    pub users_timeout: Duration,
    pub shutdown_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, Invalid> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Invalid> {
        let raw = get("USERS_URL").filter(|v| !v.is_empty());
        let users_url =
            users_url(raw.as_deref().unwrap_or(DEFAULT_USERS_URL)).map_err(|expected| Invalid {
                var: "USERS_URL",
                value: without_credentials(&raw.unwrap_or_default()),
                expected,
            })?;
        let users_timeout = num(&get, "USERS_TIMEOUT_SECS", 5u64, "seconds, at least 1")?;
        if users_timeout == 0 {
            return Err(Invalid {
                var: "USERS_TIMEOUT_SECS",
                value: "0".into(),
                expected: "seconds, at least 1",
            });
        }
        Ok(Self {
            port: num(&get, "PORT", 8000, "a TCP port")?,
            users_url,
            users_timeout: Duration::from_secs(users_timeout),
            shutdown_timeout: seconds(&get, "SHUTDOWN_TIMEOUT_SECS", 25)?,
        })
    }
}

/// `raw` with any `user:password@` replaced by `…@`: it goes into an error message.
fn without_credentials(raw: &str) -> String {
    let start = raw.find("//").map_or(0, |i| i + 2);
    let end = raw[start..]
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    match raw[start..end].rfind('@') {
        Some(at) => format!("{}…@{}", &raw[..start], &raw[start + at + 1..]),
        None => raw.to_owned(),
    }
}

/// `http://host[:port]` with at most a `/` after it, as `http://host[:port]`; else what to
/// write instead.
fn users_url(raw: &str) -> Result<String, &'static str> {
    const EXPECTED: &str =
        "http://host[:port] with no path, query or user, e.g. USERS_URL=http://users:8080";
    let Some(rest) = raw.strip_prefix("http://") else {
        return Err(if raw.starts_with("https://") {
            "plain http://host[:port]: the users API is internal plain HTTP (no TLS), \
             e.g. USERS_URL=http://users:8080"
        } else {
            EXPECTED
        });
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) || rest.contains(char::is_whitespace)
    {
        return Err(EXPECTED);
    }
    // `Authority` lets an out-of-range port through (as no port at all): check it here.
    let port = match rest.rfind(']') {
        Some(i) => rest[i + 1..].strip_prefix(':'),
        None => rest.split_once(':').map(|(_, port)| port),
    };
    match rest.parse::<Authority>() {
        Ok(a) if !a.host().is_empty() && port.is_none_or(|p| p.parse::<u16>().is_ok()) => {
            Ok(format!("http://{rest}"))
        }
        _ => Err(EXPECTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, Invalid> {
        Config::from_lookup(kit::config::pairs(vars))
    }

    #[test]
    fn a_password_in_users_url_is_refused_without_being_shown() {
        for (bad, shown) in [
            ("http://u:s3cret@users:8080", "http://…@users:8080"),
            ("u:s3cret@users:8080/x", "…@users:8080/x"),
        ] {
            let err = cfg(&[("USERS_URL", bad)]).unwrap_err().to_string();
            assert!(!err.contains("s3cret"), "{err}");
            assert!(
                err.starts_with(&format!("USERS_URL={shown:?} is invalid")),
                "{err}"
            );
        }
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.users_url, "http://127.0.0.1:8080");
        assert_eq!(c.users_timeout, Duration::from_secs(5));
        assert_eq!(c.shutdown_timeout, Duration::from_secs(25));
    }

    #[test]
    fn users_urls() {
        for (raw, want) in [
            (
                "http://users.demo-prod.internal:8080",
                "http://users.demo-prod.internal:8080",
            ),
            ("http://users:8080/", "http://users:8080"),
            ("http://users", "http://users"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(cfg(&[("USERS_URL", raw)]).unwrap().users_url, want);
        }
        for bad in [
            "users:8080",
            "http://",
            "http:///",
            "http://users:8080/api",
            "http://users:8080?x=1",
            "http://users:99999",
            "http://users:",
            "http://users:port",
            "http://us ers",
        ] {
            let err = cfg(&[("USERS_URL", bad)]).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("USERS_URL={bad:?} is invalid: expected http://")),
                "{err}"
            );
            assert!(err.contains("USERS_URL=http://users:8080"), "{err}");
        }
        let err = cfg(&[("USERS_URL", "https://users")]).unwrap_err();
        assert!(err.to_string().contains("no TLS"), "{err}");
    }

    #[test]
    fn numbers() {
        let c = cfg(&[
            ("PORT", "9000"),
            ("USERS_TIMEOUT_SECS", "1"),
            ("SHUTDOWN_TIMEOUT_SECS", "3"),
        ])
        .unwrap();
        assert_eq!(
            (c.port, c.users_timeout, c.shutdown_timeout),
            (9000, Duration::from_secs(1), Duration::from_secs(3))
        );
        let err = cfg(&[("USERS_TIMEOUT_SECS", "0")]).unwrap_err().to_string();
        assert_eq!(
            err,
            "USERS_TIMEOUT_SECS=\"0\" is invalid: expected seconds, at least 1"
        );
        assert!(cfg(&[("PORT", "http")]).is_err());
    }
}
