//! A minimal migration runner: numbered SQL files embedded in the binary, applied in order
//! inside one transaction, recorded in the app's own table.

use sqlx::{AssertSqlSafe, Database, Executor, IntoArguments, Pool};

/// An app's migrations, for each backend.
pub struct Migrations {
    /// Where applied versions are recorded, e.g. `api_schema_migrations`.
    pub table: &'static str,
    /// PostgreSQL advisory lock key that serialises concurrent starts (several tasks rolling
    /// out at once); distinct per app.
    pub lock_key: i64,
    pub sqlite: &'static [(i64, &'static str)],
    pub postgres: &'static [(i64, &'static str)],
}

pub async fn run<DB>(pool: &Pool<DB>, backend: &str, m: &Migrations) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    let postgres = backend == "postgres";
    let migrations = if postgres { m.postgres } else { m.sqlite };
    let mut tx = pool.begin().await?;
    if postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(m.lock_key)
            .execute(&mut *tx)
            .await?;
    }
    let table = m.table;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY)"
    )))
    .execute(&mut *tx)
    .await?;
    let done: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(format!("SELECT version FROM {table}")))
        .fetch_all(&mut *tx)
        .await?;
    for &(version, sql) in migrations {
        if done.iter().any(|&(v,)| v == version) {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (version) VALUES ($1)"
        )))
        .bind(version)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
