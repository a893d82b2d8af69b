//! Settings from the environment, validated before the server starts.

use std::time::Duration;

pub use kit::config::Database;
use kit::config::{Invalid, flag, num, seconds};

use crate::auth::{TokenError, Tokens};
use crate::ratelimit::RateLimitConfig;

pub const DEFAULT_DATABASE_URL: &str = "sqlite:///tmp/api.db";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

#[derive(Debug)]
pub struct Config {
    pub port: u16,
    pub tokens: Tokens,
    pub database: Database,
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
            database: Database::from_lookup(&get, DEFAULT_DATABASE_URL)?,
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
            shutdown_timeout: seconds(&get, "SHUTDOWN_TIMEOUT_SECS", 25)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_from_parts_or_off_and_never_shows_the_password() {
        let c = cfg(&[
            ("API_TOKEN", "t"),
            ("DATABASE_HOST", "db.example"),
            ("DATABASE_NAME", "app"),
            ("DATABASE_USER", "app"),
            ("DATABASE_PASSWORD", "s3cret-pw"),
        ])
        .unwrap();
        assert!(
            matches!(&c.database, Database::Postgres { port: 5432, sslmode, .. } if sslmode == "require")
        );
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        let err = cfg(&[("API_TOKEN", "t"), ("DATABASE_HOST", "db.example")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_NAME=\"\" is invalid: expected a value when DATABASE_HOST is set"
        );
        let off = cfg(&[
            ("API_TOKEN", "t"),
            ("DATABASE", "none"),
            ("DATABASE_URL", "sqlite::memory:"),
        ])
        .unwrap();
        assert_eq!(off.database, Database::Off);
        assert!(cfg(&[("API_TOKEN", "t"), ("DATABASE", "yes")]).is_err());
        let url = cfg(&[("API_TOKEN", "t"), ("DATABASE_URL", "postgres://u:pw@h/d")]).unwrap();
        assert!(!format!("{url:?}").contains("pw"));
    }

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(kit::config::pairs(vars))
    }

    #[test]
    fn defaults() {
        let c = cfg(&[("API_TOKEN", "t")]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.database, Database::Url(DEFAULT_DATABASE_URL.into()));
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
        assert_eq!(c.database, Database::Url("postgres://x/y".into()));
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
