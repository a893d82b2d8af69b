//! Settings from the environment, validated before the server starts.

use std::time::Duration;

use crate::auth::{TokenError, Tokens};
use crate::ratelimit::RateLimitConfig;

pub const DEFAULT_DATABASE_URL: &str = "sqlite:///tmp/api.db";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("{var}={value:?} is invalid: expected {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[derive(Debug)]
pub struct Config {
    pub port: u16,
    pub tokens: Tokens,
    pub database_url: String,
    pub database_max_connections: u32,
    pub rate_limit: RateLimitConfig,
    pub max_body_bytes: usize,
    pub shutdown_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let tokens = Tokens::new(
            get("API_TOKEN").as_deref(),
            get("API_TOKEN_PREVIOUS").as_deref(),
        )?;
        let per_second = num(
            &get,
            "RATE_LIMIT_PER_SECOND",
            100,
            "requests per second (0 = off)",
        )?;
        Ok(Self {
            port: num(&get, "PORT", 8080, "a TCP port")?,
            tokens,
            database_url: get("DATABASE_URL")
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            database_max_connections: num(&get, "DATABASE_MAX_CONNECTIONS", 5, "a pool size ≥ 1")?
                .max(1),
            rate_limit: RateLimitConfig {
                per_second,
                burst: num(
                    &get,
                    "RATE_LIMIT_BURST",
                    per_second.saturating_mul(2),
                    "a request count",
                )?,
                trust_forwarded_for: flag(&get, "RATE_LIMIT_TRUST_FORWARDED_FOR")?,
            },
            max_body_bytes: num(&get, "MAX_BODY_BYTES", 64 * 1024, "a size in bytes")?,
            shutdown_timeout: Duration::from_secs(num(
                &get,
                "SHUTDOWN_TIMEOUT_SECS",
                25,
                "seconds",
            )?),
        })
    }
}

fn num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match get(var).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            var,
            value: v,
            expected,
        }),
    }
}

fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    match get(var).unwrap_or_default().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => Ok(false),
        "1" | "true" | "yes" => Ok(true),
        _ => Err(ConfigError::Invalid {
            var,
            value: get(var).unwrap_or_default(),
            expected: "true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults() {
        let c = cfg(&[("API_TOKEN", "t")]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(
            c.rate_limit,
            RateLimitConfig {
                per_second: 100,
                burst: 200,
                trust_forwarded_for: false
            }
        );
        assert_eq!(c.max_body_bytes, 65536);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(25));
    }

    #[test]
    fn overrides_and_errors() {
        let c = cfg(&[
            ("API_TOKEN", "t"),
            ("PORT", "9000"),
            ("RATE_LIMIT_PER_SECOND", "0"),
            ("RATE_LIMIT_TRUST_FORWARDED_FOR", "TRUE"),
            ("DATABASE_URL", "postgres://x/y"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.port,
                c.rate_limit.per_second,
                c.rate_limit.trust_forwarded_for
            ),
            (9000, 0, true)
        );
        assert_eq!(c.database_url, "postgres://x/y");
        let err = cfg(&[("API_TOKEN", "t"), ("PORT", "http")])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "PORT=\"http\" is invalid: expected a TCP port");
        assert!(
            cfg(&[
                ("API_TOKEN", "t"),
                ("RATE_LIMIT_TRUST_FORWARDED_FOR", "maybe")
            ])
            .is_err()
        );
        assert!(matches!(
            cfg(&[]),
            Err(ConfigError::Token(TokenError::Missing))
        ));
        assert!(matches!(
            cfg(&[("API_TOKEN", "")]),
            Err(ConfigError::Token(TokenError::Missing))
        ));
    }
}
