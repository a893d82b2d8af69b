//! Graceful shutdown (in-process and as a real process receiving SIGTERM/SIGINT), refusal to
//! start without a token, and the `api healthcheck` subcommand.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BODY: &str = r#"{"data": {"slow": true}, "payment": "7.00"}"#;

/// Sends a request's head and the first half of its body, leaving it in flight.
fn start_slow_request(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /create HTTP/1.1\r\nHost: x\r\nAuthorization: Token {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&BODY.as_bytes()[..10]).unwrap();
    s
}

/// Sends the rest of the body and returns the status line and body.
fn finish_slow_request(mut s: TcpStream) -> (String, String) {
    s.write_all(&BODY.as_bytes()[10..]).unwrap();
    let mut out = String::new();
    let mut buf = [0u8; 4096];
    while !out.contains("\"payment\"") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let status = out.lines().next().unwrap_or_default().to_string();
    (status, out)
}

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("API_TOKEN", TOKEN)
        .env("PORT", port.to_string())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/api.db", dir.path().display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while api::healthcheck::probe(port, Duration::from_secs(1)).is_err() {
        assert!(Instant::now() < deadline, "server did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        port,
        _dir: dir,
    }
}

fn kill(server: &Server, signal: &str) {
    let ok = Command::new("kill")
        .args([signal, &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(mut server: Server) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            let mut out = String::new();
            server
                .child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status, out);
        }
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_lets_in_flight_requests_finish_then_exits_0() {
    let server = spawn_server();
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
    let conn = start_slow_request(addr);
    std::thread::sleep(Duration::from_millis(200));
    kill(&server, "-TERM");
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = finish_slow_request(conn);
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let (exit, logs) = wait_exit(server);
    assert!(exit.success(), "{exit:?}\n{logs}");
    assert!(logs.contains("\"signal\":\"SIGTERM\""), "{logs}");
    assert!(
        logs.contains("\"path\":\"/create\",\"status\":200"),
        "{logs}"
    );
    assert!(!logs.contains(TOKEN), "{logs}");
}

#[test]
fn sigint_exits_0() {
    let server = spawn_server();
    kill(&server, "-INT");
    let (exit, logs) = wait_exit(server);
    assert!(exit.success(), "{exit:?}");
    assert!(logs.contains("\"signal\":\"SIGINT\""), "{logs}");
}

#[test]
fn healthcheck_subcommand() {
    let server = spawn_server();
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
        let out = cmd.output().unwrap();
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
