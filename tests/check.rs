//! `stackctl check` against the emulated stack: `up` into moto through a fault proxy that
//! emulates ECS (rollouts, each task, target health, StopTask with the target draining for
//! the deregistration delay), and the data plane front (tests/common/lb.rs) running each task
//! the emulation runs in podman and balancing between the healthy ones, as the load balancer
//! does. The payments contract is checked against `stackctl dev` with a database
//! (tests/dev). Here, also: no redirect is followed, and a URL that is not http(s) is refused.

mod common;

use std::time::Duration;

use common::{Project, fronted};
use serde_json::Value;

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_load_and_a_stopped_task_fail_no_request_through_the_front() {
    // A replacement task runs a second after it starts and is healthy after two, as the
    // emulation shows it; its container must answer before the front uses it anyway.
    let Some(f) = fronted::deploy(7, Duration::from_secs(4), "").await else {
        return;
    };
    let (p, lb) = (&f.project, &f.lb);
    let url = lb.url.clone();

    // Smoke: health, the token accepted, a missing or wrong one refused. This stack has no
    // database: the payments API says so, and the step is skipped, not failed.
    let smoke = p.run(&["check", "smoke", "--url", &url]).ok();
    for step in [
        "ok   GET /status",
        "ok   no token is refused",
        "ok   a wrong token is refused",
        "ok   the token is accepted",
        "skip payments: the service has no database",
    ] {
        assert!(smoke.stdout.contains(step), "{step}:\n{}", smoke.stdout);
    }
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    assert!(!smoke.all().contains(&token), "the token was printed");

    // Load: 50 a second for 4 s, every request answered.
    let load = p
        .run(&[
            "check",
            "load",
            "--url",
            &url,
            "--rate",
            "50",
            "--duration",
            "4s",
            "--max-p99",
            "1000",
            "-o",
            "json",
        ])
        .ok();
    let l = json_of(&load.stdout);
    assert_eq!(
        (l["sent"].as_u64(), l["failed"].as_u64()),
        (Some(200), Some(0)),
        "{l}"
    );
    assert_eq!(l["passed"], true);
    assert!(
        load.stderr.contains("  4 s") || load.stderr.contains("   4 s"),
        "progress each second:\n{}",
        load.stderr
    );

    // Resilience: a task stopped through ECS while 40 requests a second arrive.
    let run = p
        .run(&[
            "check",
            "resilience",
            "--url",
            &url,
            "--rate",
            "40",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .ok();
    let r = json_of(&run.stdout);
    let journal = lb.journal();
    eprintln!("[check] resilience: {r}\n[check] data plane: {journal:#?}");
    assert_eq!(r["failed"], 0, "{r}\n{journal:#?}");
    assert_eq!(r["passed"], true);
    let recovery = r["recovery_s"].as_f64().expect("back to full count");
    assert!(recovery > 0.0);
    // The data plane did what ECS does: the stopped task's container got SIGTERM and
    // exited cleanly, a new one started.
    assert!(
        journal.iter().any(|l| l.starts_with("SIGTERM to")),
        "{journal:#?}"
    );
    assert!(
        journal.iter().any(|l| l.ends_with("exited 0")),
        "{journal:#?}"
    );
    assert!(
        journal.iter().filter(|l| l.starts_with("started")).count() >= 3,
        "{journal:#?}"
    );
}

/// A target that redirects elsewhere is not followed: `check` calls only what it was given.
#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    let p = Project::with_services(
        "http://127.0.0.1:9",
        "  web:\n    build: {api}\n    port: 8080\n    health: /status\n    public: true\n",
    );
    let url = format!("http://{addr}/");
    let run = p.run(&["check", "smoke", "--url", &url]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout
            .contains("FAIL GET /status answers 200: 302 Found, expected 200 OK"),
        "{}",
        run.stdout
    );
    let bad = p.run(&["check", "load", "--url", "ftp://example.com/"]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stderr.contains("use http:// or https://") && bad.stderr.contains("hint:"),
        "{}",
        bad.stderr
    );
}
