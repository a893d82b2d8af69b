//! Payment storage: embedded SQLite (default) or PostgreSQL, chosen by `DATABASE_URL` or the
//! `DATABASE_*` parts; or none (`DATABASE=none`, deployed without a database).
//! Both speak the same SQL here (`$n` parameters, `RETURNING`); only migrations differ.

use kit::db::{Migrations, Pool};

use crate::config::Database;
use crate::money::Money;
use crate::payments::model::{Payment, Status};

#[derive(Clone, Debug)]
pub enum Store {
    Db(Pool),
    /// No database: every payment operation fails with [`NoDatabase`].
    Off,
}

const MIGRATIONS: Migrations = Migrations {
    table: "api_schema_migrations",
    lock_key: 7_270_417,
    sqlite: &[(1, include_str!("../../migrations/sqlite/0001_payments.sql"))],
    postgres: &[(
        1,
        include_str!("../../migrations/postgres/0001_payments.sql"),
    )],
};

/// Deployed without a database: payments are refused rather than kept in a per-task file.
#[derive(Debug, thiserror::Error)]
#[error(
    "this service has no database: add a `database:` section to stack.yaml listing it under `services`, then run `stackctl up`"
)]
pub struct NoDatabase;

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
            Store::Db(db) => kit::on_pool!(db, |$pool| $body),
            Store::Off => Err(no_database()),
        }
    };
}

impl Store {
    /// Opens the configured database (see [`Store::connect`]); `Off` opens nothing.
    pub async fn open(db: &Database, max_connections: u32) -> Result<Self, sqlx::Error> {
        match db {
            Database::Off => Ok(Self::Off),
            db => Ok(Self::Db(
                Pool::open(db, max_connections, &MIGRATIONS).await?,
            )),
        }
    }

    /// Connects (creating a SQLite file if missing) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        Ok(Self::Db(
            Pool::connect(url, max_connections, &MIGRATIONS).await?,
        ))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Db(db) => db.backend(),
            Self::Off => "none",
        }
    }

    /// Healthy without a database too: the service answers, its payments routes say why not.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Self::Db(db) => db.ping().await,
            Self::Off => Ok(()),
        }
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
            Self::Db(db) => db.credentials_rejected().await,
            Self::Off => std::future::pending().await,
        }
    }

    pub async fn close(&self) {
        if let Self::Db(db) = self {
            db.close().await;
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
