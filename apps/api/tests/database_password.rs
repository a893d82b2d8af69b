//! The API as deployed with a database (the `DATABASE_*` variables stackctl sets), against a
//! real PostgreSQL that, like RDS, takes passwords only over TLS: it connects with TLS, and
//! when the password is rotated it stops (exit 1) instead of failing forever, so that ECS
//! starts a task that reads the current secret; that task serves the same data.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::TOKEN;
use common::process::Server;

/// One request on its own connection: `(status, body)`, or `None` if nobody answers.
fn call(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Token {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_password_stops_the_task_and_the_next_one_serves_the_same_data() {
    let Some(admin_url) = std::env::var("STACKCTL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert_ne!(
            std::env::var("STACKCTL_TEST_REQUIRE_SERVICES").as_deref(),
            Ok("1"),
            "STACKCTL_TEST_POSTGRES_URL is unset"
        );
        eprintln!("skipped: STACKCTL_TEST_POSTGRES_URL is unset (run ./scripts/test.sh)");
        return;
    };
    // postgres://postgres@HOST:PORT/DB
    let hostport = admin_url
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let role = format!("app_{}_{nanos}", std::process::id());
    let (first, second) = ("first-Pw_0123456789abcdef", "second-Pw_0123456789abcdef");
    let exec = |sql: String| {
        let admin = admin.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .unwrap();
        }
    };
    exec(format!("CREATE ROLE {role} LOGIN PASSWORD '{first}'")).await;
    exec(format!("CREATE DATABASE {role} OWNER {role}")).await;
    let env = |password: &'static str| {
        vec![
            ("DATABASE_HOST", host.to_string()),
            ("DATABASE_PORT", port.to_string()),
            ("DATABASE_NAME", role.clone()),
            ("DATABASE_USER", role.clone()),
            ("DATABASE_PASSWORD", password.to_string()),
            ("DATABASE_SSLMODE", "require".to_string()),
        ]
    };
    let start = |password| {
        let vars = env(password);
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Server::start(&refs)
    };

    let api = start(first);
    let (status, body) = call(
        api.port,
        "POST",
        "/v1/payments",
        r#"{"data":{"n":1},"payment":"42.10"}"#,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    // Every connection of the API's user is encrypted.
    let ssl: Vec<(bool,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = '{role}'"
    )))
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(!ssl.is_empty() && ssl.iter().all(|(on,)| *on), "{ssl:?}");

    // RDS rotates the password; the task's connections end (as they do, in time).
    exec(format!("ALTER ROLE {role} PASSWORD '{second}'")).await;
    exec(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    ))
    .await;
    let rotated = Instant::now();
    while Instant::now() - rotated < Duration::from_secs(20) {
        match call(api.port, "GET", "/v1/payments", "") {
            None => break,
            Some((status, _)) => assert!(status == 503 || status == 200, "{status}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let exit = api.wait_exit(Duration::from_secs(30)).unwrap();
    assert_eq!(exit.status.code(), Some(1), "{}", exit.stdout);
    assert!(
        exit.stdout.contains("refused the password"),
        "{}",
        exit.stdout
    );
    assert!(!exit.stdout.contains(first), "the password is in the logs");
    eprintln!(
        "stopped {:.1}s after the rotation",
        rotated.elapsed().as_secs_f64()
    );

    // The next task, with the secret's current value: the payment is there.
    let next = start(second);
    let (status, body) = call(next.port, "GET", "/v1/payments", "").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""payment":"42.10""#), "{body}");
    drop(next);
    exec(format!("DROP DATABASE {role} WITH (FORCE)")).await;
    exec(format!("DROP ROLE {role}")).await;
}
