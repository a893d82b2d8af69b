//! Settings from the environment, validated before the server starts.

use std::time::Duration;

pub use kit::config::{Database, Invalid};
use kit::config::{num, seconds};

/// On a laptop: a file next to the process. In the cloud stackctl sets `DATABASE_*`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///tmp/users.db";

#[derive(Debug)]
pub struct Config {
    pub port: u16,
    pub database: Database,
    pub database_max_connections: u32,
    pub max_body_bytes: usize,
    pub shutdown_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, Invalid> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Invalid> {
        let database = Database::from_lookup(&get, DEFAULT_DATABASE_URL)?;
        if database == Database::Off {
            return Err(Invalid {
                var: "DATABASE",
                value: "none".into(),
                expected: "unset: the users API keeps its users in a database",
            });
        }
        Ok(Self {
            port: num(&get, "PORT", 8080, "a TCP port")?,
            database,
            database_max_connections: num(&get, "DATABASE_MAX_CONNECTIONS", 5, "a pool size ≥ 1")?
                .max(1),
            max_body_bytes: num(&get, "MAX_BODY_BYTES", 16 * 1024, "a size in bytes")?,
            shutdown_timeout: seconds(&get, "SHUTDOWN_TIMEOUT_SECS", 25)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, Invalid> {
        Config::from_lookup(kit::config::pairs(vars))
    }

    #[test]
    fn defaults_parts_and_errors() {
        let c = cfg(&[]).unwrap();
        assert_eq!((c.port, c.max_body_bytes), (8080, 16 * 1024));
        assert_eq!(c.database, Database::Url(DEFAULT_DATABASE_URL.into()));
        let c = cfg(&[
            ("DATABASE_HOST", "db.internal"),
            ("DATABASE_NAME", "app"),
            ("DATABASE_USER", "app"),
            ("DATABASE_PASSWORD", "s3cret-pw"),
        ])
        .unwrap();
        assert!(matches!(c.database, Database::Postgres { port: 5432, .. }));
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        assert_eq!(
            cfg(&[("DATABASE", "none")]).unwrap_err().to_string(),
            "DATABASE=\"none\" is invalid: expected unset: the users API keeps its users in a database"
        );
        assert_eq!(
            cfg(&[("PORT", "web")]).unwrap_err().to_string(),
            "PORT=\"web\" is invalid: expected a TCP port"
        );
    }
}
