//! A minimal migration runner: numbered SQL files embedded in the binary, applied in order
//! inside one transaction, recorded in `api_schema_migrations`.

use sqlx::{Database, Executor, IntoArguments, Pool};

const SQLITE: &[(i64, &str)] = &[(1, include_str!("../../migrations/sqlite/0001_payments.sql"))];
const POSTGRES: &[(i64, &str)] = &[(
    1,
    include_str!("../../migrations/postgres/0001_payments.sql"),
)];

/// Serialises concurrent starts (several tasks rolling out at once) on PostgreSQL.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(7270417)";

pub async fn run<DB>(pool: &Pool<DB>, backend: &str) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    let (migrations, lock) = match backend {
        "postgres" => (POSTGRES, Some(PG_LOCK)),
        _ => (SQLITE, None),
    };
    let mut tx = pool.begin().await?;
    if let Some(lock) = lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS api_schema_migrations (version BIGINT PRIMARY KEY)")
        .execute(&mut *tx)
        .await?;
    let done: Vec<(i64,)> = sqlx::query_as("SELECT version FROM api_schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for &(version, sql) in migrations {
        if done.iter().any(|&(v,)| v == version) {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO api_schema_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
