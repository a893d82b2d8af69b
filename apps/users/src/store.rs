//! User storage: SQLite (the local default) or PostgreSQL (the stack's database), through
//! `kit::db`; the same SQL on both.

use kit::db::{Migrations, Pool};
use kit::on_pool;

use crate::config::Database;
use crate::model::User;

const MIGRATIONS: Migrations = Migrations {
    table: "users_schema_migrations",
    lock_key: 8_837_201,
    sqlite: &[(1, include_str!("../migrations/0001_users.sql"))],
    postgres: &[(1, include_str!("../migrations/0001_users.sql"))],
};

#[derive(Clone, Debug)]
pub struct Store(Pool);

impl Store {
    pub async fn open(db: &Database, max_connections: u32) -> Result<Self, sqlx::Error> {
        Pool::open(db, max_connections, &MIGRATIONS).await.map(Self)
    }

    /// Connects to a `sqlite:` or `postgres://` URL and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        Pool::connect(url, max_connections, &MIGRATIONS)
            .await
            .map(Self)
    }

    pub fn pool(&self) -> &Pool {
        &self.0
    }

    /// Users with `id > after`, by ID.
    pub async fn list(&self, after: i64, limit: u32) -> Result<Vec<User>, sqlx::Error> {
        let sql = "SELECT id, name FROM users WHERE id > $1 ORDER BY id LIMIT $2";
        let rows: Vec<(i64, String)> = on_pool!(&self.0, |p| sqlx::query_as(sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(user).collect())
    }

    pub async fn get(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        let sql = "SELECT id, name FROM users WHERE id = $1";
        let row: Option<(i64, String)> = on_pool!(&self.0, |p| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(user))
    }

    /// The new user, or `None` when the ID is taken (one statement: no race between tasks).
    pub async fn create(&self, id: i64, name: &str) -> Result<Option<User>, sqlx::Error> {
        let sql = "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id, name";
        let row: Option<(i64, String)> = on_pool!(&self.0, |p| sqlx::query_as(sql)
            .bind(id)
            .bind(name)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(user))
    }

    pub async fn rename(&self, id: i64, name: &str) -> Result<Option<User>, sqlx::Error> {
        let sql = "UPDATE users SET name = $1 WHERE id = $2 RETURNING id, name";
        let row: Option<(i64, String)> = on_pool!(&self.0, |p| sqlx::query_as(sql)
            .bind(name)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(user))
    }

    /// Whether there was such a user.
    pub async fn delete(&self, id: i64) -> Result<bool, sqlx::Error> {
        let sql = "DELETE FROM users WHERE id = $1";
        let done = on_pool!(&self.0, |p| sqlx::query(sql)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }
}

fn user((id, name): (i64, String)) -> User {
    User { id, name }
}
