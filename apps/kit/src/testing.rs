//! For the apps' tests: a fresh PostgreSQL schema per test on the test server.

use std::sync::atomic::{AtomicU32, Ordering};

/// The URL of a new, empty schema on the test PostgreSQL (`STACKCTL_TEST_POSTGRES_URL`), or
/// None (printing why) when there is none. Panics instead when the test command promised one
/// (`STACKCTL_TEST_REQUIRE_SERVICES=1`).
pub async fn postgres_schema(prefix: &str) -> Option<String> {
    let Some(url) = std::env::var("STACKCTL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("STACKCTL_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("STACKCTL_TEST_POSTGRES_URL is unset but STACKCTL_TEST_REQUIRE_SERVICES=1");
        }
        eprintln!("skipped: STACKCTL_TEST_POSTGRES_URL is unset (run ./scripts/test.sh)");
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let schema = format!(
        "{prefix}_test_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create a test schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}
