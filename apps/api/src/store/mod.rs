//! Payment storage: embedded SQLite (default) or PostgreSQL, chosen by `DATABASE_URL` or the
//! `DATABASE_*` parts; or none (`DATABASE=none`, deployed without a database).
//! Both speak the same SQL here (`$n` parameters, `RETURNING`); only migrations differ.

mod migrate;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::Database;
use crate::money::Money;
use crate::payments::model::{Payment, Status};

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool, Credentials),
    /// No database: every payment operation fails with [`NoDatabase`].
    Off,
}

/// How long one PostgreSQL connection is used. A rotated password does not end the sessions
/// opened with the old one: the API finds out on its next new connection, so this bounds how
/// long after a rotation it stops for a task with the new secret.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Deployed without a database: payments are refused rather than kept in a per-task file.
#[derive(Debug, thiserror::Error)]
#[error(
    "this service has no database: add a `database:` section to stack.yaml listing it under `services`, then run `stackctl up`"
)]
pub struct NoDatabase;

/// Whether PostgreSQL has refused the password: RDS rotated it (the secret holds the new one,
/// this process the old), so new connections fail while open ones still work.
#[derive(Clone, Debug, Default)]
pub struct Credentials(std::sync::Arc<(std::sync::atomic::AtomicBool, tokio::sync::Notify)>);

impl Credentials {
    /// PostgreSQL's `invalid_password` (SQLSTATE 28P01).
    fn saw<T>(&self, result: &Result<T, sqlx::Error>) {
        if let Err(sqlx::Error::Database(e)) = result
            && e.code().as_deref() == Some("28P01")
            && !self.0.0.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.0.1.notify_waiters();
        }
    }

    /// Resolves once the password has been refused.
    pub async fn rejected(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.0.0.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

fn no_database() -> sqlx::Error {
    sqlx::Error::Configuration(Box::new(NoDatabase))
}

type Row = (i64, String, String, i64);

/// The selected columns, as a literal for `concat!` (sqlx wants `'static` SQL).
macro_rules! columns {
    () => {
        "id, status, data, amount_cents"
    };
}

/// Runs the same query on whichever pool backs the store.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool, credentials) => {
                let result = $body;
                credentials.saw(&result);
                result
            }
            Store::Off => Err(no_database()),
        }
    };
}

impl Store {
    /// Opens the configured database (see [`Store::connect`]); `Off` opens nothing.
    pub async fn open(db: &Database, max_connections: u32) -> Result<Self, sqlx::Error> {
        match db {
            Database::Off => Ok(Self::Off),
            Database::Url(url) => Self::connect(url, max_connections).await,
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
                Self::postgres(opts, max_connections).await
            }
        }
    }

    async fn postgres(opts: PgConnectOptions, max_connections: u32) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .max_lifetime(CONNECTION_LIFETIME)
            .connect_with(opts)
            .await?;
        let store = Self::Postgres(pool, Credentials::default());
        on_pool!(&store, |pool| migrate::run(pool, store.backend()).await)?;
        Ok(store)
    }

    /// Connects (creating a SQLite file if missing) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
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
        on_pool!(&store, |pool| migrate::run(pool, store.backend()).await)?;
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(..) => "postgres",
            Self::Off => "none",
        }
    }

    /// Healthy without a database too: the service answers, its payments routes say why not.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        if let Self::Off = self {
            return Ok(());
        }
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
    }

    pub async fn create(&self, data: &str, amount: Money) -> Result<Payment, sqlx::Error> {
        let sql = concat!(
            "INSERT INTO payments (status, data, amount_cents) VALUES ($1, $2, $3) RETURNING ",
            columns!(),
            ""
        );
        let row: Row = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(Status::Inserted.as_str())
            .bind(data)
            .bind(amount.cents())
            .fetch_one(pool)
            .await)?;
        to_payment(row)
    }

    pub async fn get(&self, id: i64) -> Result<Option<Payment>, sqlx::Error> {
        let sql = concat!("SELECT ", columns!(), " FROM payments WHERE id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(to_payment).transpose()
    }

    /// Payments with `id > after`, oldest first.
    pub async fn list(&self, after: i64, limit: u32) -> Result<Vec<Payment>, sqlx::Error> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM payments WHERE id > $1 ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(to_payment).collect()
    }

    pub async fn set_status(
        &self,
        id: i64,
        status: Status,
    ) -> Result<Option<Payment>, sqlx::Error> {
        let sql = concat!(
            "UPDATE payments SET status = $1 WHERE id = $2 RETURNING ",
            columns!(),
            ""
        );
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(status.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(to_payment).transpose()
    }

    pub async fn delete(&self, id: i64) -> Result<Option<Payment>, sqlx::Error> {
        let sql = concat!(
            "DELETE FROM payments WHERE id = $1 RETURNING ",
            columns!(),
            ""
        );
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(to_payment).transpose()
    }

    /// Resolves when PostgreSQL refuses the password this process started with (never for
    /// the other stores).
    pub async fn credentials_rejected(&self) {
        match self {
            Self::Postgres(_, c) => c.rejected().await,
            _ => std::future::pending().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool, _) => pool.close().await,
            Self::Off => {}
        }
    }
}

fn to_payment((id, status, data, cents): Row) -> Result<Payment, sqlx::Error> {
    let corrupt = |what: String| sqlx::Error::Decode(what.into());
    Ok(Payment {
        id,
        status: Status::from_db(&status),
        data: serde_json::value::RawValue::from_string(data)
            .map_err(|e| corrupt(format!("payment {id}: stored data is not JSON: {e}")))?,
        payment: Money::from_cents(cents)
            .map_err(|_| corrupt(format!("payment {id}: stored amount out of range")))?,
    })
}
