//! Graceful shutdown (in-process and as a real process receiving SIGTERM/SIGINT), refusal to
//! start without a token, and the `api healthcheck` subcommand.

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::process::{Server, finish_slow_request, free_port, output_within, start_slow_request};
use common::*;

/// Far longer than any stop takes (see shutdown_loop.rs): only a hang reaches it.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_finish_after_shutdown_starts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = sqlite_app().await;
    let server = tokio::spawn(api::server::serve(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(10),
    ));
    let conn = tokio::task::spawn_blocking(move || start_slow_request(addr))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the in-flight request"
    );
    assert!(
        TcpStream::connect(addr).is_err(),
        "no new connections once shutting down"
    );
    let (status, body) = tokio::task::spawn_blocking(move || finish_slow_request(conn))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(body.contains("\"payment\":\"7.00\""), "{body}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_gives_up_after_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = sqlite_app().await;
    let server = tokio::spawn(api::server::serve(
        listener,
        app,
        tokio::time::sleep(Duration::from_millis(300)),
        Duration::from_millis(300),
    ));
    let _stuck = tokio::task::spawn_blocking(move || start_slow_request(addr))
        .await
        .unwrap();
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sigterm_lets_in_flight_requests_finish_then_exits_0() {
    let server = Server::start(&[]);
    let conn = start_slow_request(server.addr());
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = finish_slow_request(conn);
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let exit = server.wait_exit(EXIT_LIMIT).unwrap();
    let logs = exit.stdout;
    assert!(exit.status.success(), "{:?}\n{logs}", exit.status);
    assert!(logs.contains("\"signal\":\"SIGTERM\""), "{logs}");
    assert!(
        logs.contains("\"path\":\"/create\",\"status\":200"),
        "{logs}"
    );
    assert!(!logs.contains(TOKEN), "{logs}");
}

#[test]
fn sigint_exits_0() {
    let server = Server::start(&[]);
    server.signal("INT");
    let exit = server.wait_exit(EXIT_LIMIT).unwrap();
    assert!(exit.status.success(), "{:?}", exit.status);
    assert!(
        exit.stdout.contains("\"signal\":\"SIGINT\""),
        "{}",
        exit.stdout
    );
}

#[test]
fn healthcheck_subcommand() {
    let server = Server::start(&[]);
    let run = |port: u16| {
        Command::new(env!("CARGO_BIN_EXE_api"))
            .arg("healthcheck")
            .env_clear()
            .env("PORT", port.to_string())
            .output()
            .unwrap()
    };
    assert!(run(server.port).status.success());
    let down = run(free_port());
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot reach 127.0.0.1:"));
}

#[test]
fn refuses_to_start_without_a_token() {
    for token in [None, Some(""), Some("has space")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_api"));
        cmd.env_clear()
            .env("PORT", free_port().to_string())
            .env("DATABASE_URL", "sqlite::memory:");
        if let Some(t) = token {
            cmd.env("API_TOKEN", t);
        }
        let out = output_within(&mut cmd, EXIT_LIMIT).unwrap();
        assert_eq!(out.status.code(), Some(2), "{token:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refusing to start"), "{stderr}");
        let expected = if token == Some("has space") {
            "printable ASCII"
        } else {
            "API_TOKEN is unset or empty"
        };
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn unknown_subcommand_and_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("api "));
    let out = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("openapi")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["paths"]["/v1/payments/{id}"].is_object());
}
