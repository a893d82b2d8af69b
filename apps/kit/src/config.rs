//! Settings from the environment, read through a lookup function (the environment in
//! production, a map in tests) and validated before a server starts.

#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?} is invalid: expected {expected}")]
pub struct Invalid {
    pub var: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// `var` parsed as a `T`; `default` when unset or empty.
pub fn num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, Invalid> {
    match get(var).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| Invalid {
            var,
            value: v,
            expected,
        }),
    }
}

/// `var` in whole seconds; `default` when unset or empty.
pub fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<std::time::Duration, Invalid> {
    num(get, var, default, "seconds").map(std::time::Duration::from_secs)
}

/// A lookup over fixed pairs, as tests give settings.
pub fn pairs<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

/// `var` as a boolean: unset, empty, 0, false, no or 1, true, yes (any case).
pub fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, Invalid> {
    match get(var).unwrap_or_default().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => Ok(false),
        "1" | "true" | "yes" => Ok(true),
        _ => Err(Invalid {
            var,
            value: get(var).unwrap_or_default(),
            expected: "true or false",
        }),
    }
}

/// Where an app keeps its data.
#[cfg(feature = "db")]
#[derive(Clone, PartialEq)]
pub enum Database {
    /// `DATABASE_URL`: `sqlite:…` (the local default) or `postgres://…`.
    Url(String),
    /// PostgreSQL from parts, as stackctl gives them (`DATABASE_HOST`, `DATABASE_PORT`,
    /// `DATABASE_NAME`, `DATABASE_USER`, `DATABASE_PASSWORD`, `DATABASE_SSLMODE`).
    Postgres {
        host: String,
        port: u16,
        name: String,
        user: String,
        password: String,
        sslmode: String,
    },
    /// `DATABASE=none`: deployed without a database.
    Off,
}

// The password never reaches a log line.
#[cfg(feature = "db")]
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(u) => {
                let shown = match u.split_once('@') {
                    Some((_, host)) => format!("postgres://…@{host}"),
                    None => u.clone(),
                };
                write!(f, "Url({shown})")
            }
            Self::Postgres {
                host,
                port,
                name,
                user,
                sslmode,
                ..
            } => write!(
                f,
                "Postgres({user}@{host}:{port}/{name}, sslmode={sslmode})"
            ),
            Self::Off => write!(f, "Off"),
        }
    }
}

#[cfg(feature = "db")]
impl Database {
    /// From `DATABASE`, `DATABASE_HOST` and its parts, or `DATABASE_URL` (else `default_url`).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        default_url: &str,
    ) -> Result<Self, Invalid> {
        let set = |k: &str| get(k).filter(|v| !v.is_empty());
        match set("DATABASE").as_deref() {
            None => {}
            Some("none") => return Ok(Self::Off),
            Some(other) => {
                return Err(Invalid {
                    var: "DATABASE",
                    value: other.into(),
                    expected: "`none` or unset",
                });
            }
        }
        let Some(host) = set("DATABASE_HOST") else {
            return Ok(Self::Url(
                set("DATABASE_URL").unwrap_or_else(|| default_url.into()),
            ));
        };
        let need = |var: &'static str| {
            set(var).ok_or(Invalid {
                var,
                value: String::new(),
                expected: "a value when DATABASE_HOST is set",
            })
        };
        let sslmode = set("DATABASE_SSLMODE").unwrap_or_else(|| "require".into());
        if sslmode.parse::<sqlx::postgres::PgSslMode>().is_err() {
            return Err(Invalid {
                var: "DATABASE_SSLMODE",
                value: sslmode,
                expected: "a libpq sslmode (require, verify-ca, verify-full, ...)",
            });
        }
        Ok(Self::Postgres {
            host,
            port: num(get, "DATABASE_PORT", 5432, "a TCP port")?,
            name: need("DATABASE_NAME")?,
            user: need("DATABASE_USER")?,
            password: need("DATABASE_PASSWORD")?,
            sslmode,
        })
    }
}
