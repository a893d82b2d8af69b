//! Database pools: embedded SQLite (the local default) or PostgreSQL, chosen by
//! `DATABASE_URL` or the `DATABASE_*` parts, migrated on open. Apps write their SQL once
//! (`$n` parameters, `RETURNING`) and run it on either pool with [`on_pool!`].

mod migrate;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use migrate::Migrations;

use crate::config::Database;

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool, Credentials),
}

/// How long one PostgreSQL connection is used. A rotated password does not end the sessions
/// opened with the old one: the app finds out on its next new connection, so this bounds how
/// long after a rotation it stops for a task with the new secret.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Whether PostgreSQL has refused the password: RDS rotated it (the secret holds the new one,
/// this process the old), so new connections fail while open ones still work.
#[derive(Clone, Debug, Default)]
pub struct Credentials(Arc<(AtomicBool, tokio::sync::Notify)>);

impl Credentials {
    /// Notes PostgreSQL's `invalid_password` (SQLSTATE 28P01) in `result`.
    pub fn saw<T>(&self, result: &Result<T, sqlx::Error>) {
        if let Err(sqlx::Error::Database(e)) = result
            && e.code().as_deref() == Some("28P01")
            && !self.0.0.swap(true, Ordering::SeqCst)
        {
            self.0.1.notify_waiters();
        }
    }

    /// Resolves once the password has been refused.
    pub async fn rejected(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.0.0.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// Runs the same query on whichever pool `$pool` (a `&Pool`) is, noting a refused password.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p, credentials) => {
                let result = $body;
                credentials.saw(&result);
                result
            }
        }
    };
}

impl Pool {
    /// Opens the configured database and applies `migrations`; `Database::Off` is the
    /// caller's to handle (a configuration error here).
    pub async fn open(
        db: &Database,
        max_connections: u32,
        migrations: &Migrations,
    ) -> Result<Self, sqlx::Error> {
        match db {
            Database::Off => Err(sqlx::Error::Configuration(
                "DATABASE=none: this app needs a database".into(),
            )),
            Database::Url(url) => Self::connect(url, max_connections, migrations).await,
            Database::Postgres {
                host,
                port,
                name,
                user,
                password,
                sslmode,
            } => {
                let opts = PgConnectOptions::new_without_pgpass()
                    .host(host)
                    .port(*port)
                    .database(name)
                    .username(user)
                    .password(password)
                    .ssl_mode(sslmode.parse()?);
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    .max_lifetime(CONNECTION_LIFETIME)
                    .connect_with(opts)
                    .await?;
                Self::Postgres(pool, Credentials::default())
                    .migrated(migrations)
                    .await
            }
        }
    }

    /// Connects to a `sqlite:` (created if missing) or `postgres://` URL and applies
    /// `migrations`.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        migrations: &Migrations,
    ) -> Result<Self, sqlx::Error> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            Self::Postgres(pool, Credentials::default())
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            let mut pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5));
            if url.contains(":memory:") {
                // Every connection to :memory: is a new database: keep exactly one, forever.
                pool = pool
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            Self::Sqlite(pool.connect_with(opts).await?)
        } else {
            return Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ));
        };
        pool.migrated(migrations).await
    }

    async fn migrated(self, migrations: &Migrations) -> Result<Self, sqlx::Error> {
        let backend = self.backend();
        on_pool!(&self, |p| migrate::run(p, backend, migrations).await)?;
        Ok(self)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(..) => "postgres",
        }
    }

    /// `SELECT 1`: whether the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |p| sqlx::query("SELECT 1").execute(p).await.map(drop))
    }

    /// Resolves when PostgreSQL refuses the password this process started with (never for
    /// SQLite).
    pub async fn credentials_rejected(&self) {
        match self {
            Self::Postgres(_, c) => c.rejected().await,
            Self::Sqlite(_) => std::future::pending().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool, _) => pool.close().await,
        }
    }
}
