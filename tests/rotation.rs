//! `rotate-token` fails no request. A client keeps calling the API through a round-robin
//! front (the load balancer's part) with the old token until `rotate-token` returns, then
//! with the new one, while the data plane does what ECS does for a rolling update with
//! minimum 100 %: start a task of the new revision, put it in service once healthy, then
//! take the old one out, let it drain, and stop it with SIGTERM. Zero failures.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use common::dataplane::{ControlPlane, run_task};
use common::{Project, moto};
use faultproxy::{FaultConfig, Profile, Proxy};

async fn revision(aws: &stackctl::aws::Aws, family: &str) -> (i32, String) {
    let td = common::latest(aws, family).await;
    (td.revision(), td.task_definition_arn().unwrap().to_string())
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
    first_failure: Mutex<Option<String>>,
}

#[tokio::test(flavor = "multi_thread")]
async fn rotating_the_token_fails_no_request() {
    let Some(moto) = moto() else { return };
    if std::env::var_os("STACKCTL_TEST_PODMAN").is_none() {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return;
    }
    // ECS reports the rollout COMPLETED after 8 s, as it would once new tasks pass health
    // checks; the data plane below replaces the task well within that.
    let mut cfg =
        FaultConfig::new(common::upstream(&moto), 1, 0.0).with_profile(Profile::Passthrough);
    cfg.ecs_rollout = Duration::from_secs(8);
    let proxy = Proxy::start(cfg).await.unwrap();
    let endpoint = proxy.url();
    let p = Project::new(&endpoint, "");
    p.run(&["up"]).ok();
    let cp = ControlPlane::new(&endpoint).await;
    let aws = &cp.aws;
    let family = format!("{}-default-api", p.name);
    let (rev1, arn1) = revision(aws, &family).await;
    let old = p.run(&["token"]).ok().stdout.trim().to_string();
    let a = run_task(&cp, &arn1).await;

    let pool = Arc::new(Mutex::new(vec![a.port]));
    let token = Arc::new(RwLock::new(old.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let client = {
        let (pool, token, stop, tally) = (pool.clone(), token.clone(), stop.clone(), tally.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let port = {
                    let pool = pool.lock().unwrap();
                    pool[i % pool.len()]
                };
                i += 1;
                let t = token.read().unwrap().clone();
                // Many clients, as the load balancer reports them (the API limits each one).
                let client = format!("198.51.100.{}", i % 250);
                let r = http
                    .get(format!("http://127.0.0.1:{port}/"))
                    .header("Authorization", format!("Token {t}"))
                    .header("X-Forwarded-For", client)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        let what = format!("port {port}: {:?}", other.map(|r| r.status()));
                        tally.first_failure.lock().unwrap().get_or_insert(what);
                    }
                }
            }
        })
    };

    let started = Instant::now();
    let mut cmd = p.command(&endpoint, &["rotate-token", "--show"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let rotation = tokio::process::Command::from(cmd).spawn().unwrap();

    // ECS's part: a task of the new revision, in service once healthy; then the old one out.
    let arn2 = loop {
        let (rev, arn) = revision(aws, &family).await;
        if rev > rev1 {
            break arn;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no new revision"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let b = run_task(&cp, &arn2).await;
    assert!(b.healthy());
    pool.lock().unwrap().push(b.port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    pool.lock().unwrap().retain(|port| *port != a.port);
    // Deregistration delay: requests already sent to the old task finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        a.stop(),
        "0",
        "the old task did not stop cleanly on SIGTERM"
    );

    let out = rotation.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "rotate-token failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_ne!(new, old);
    *token.write().unwrap() = new;
    let during = tally.ok.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    client.await.unwrap();

    let ok = tally.ok.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    eprintln!(
        "[rotation] {ok} requests ok ({during} with the old token, {} with the new), {failed} failed, rotation took {:.1}s",
        ok - during,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        failed,
        0,
        "first failure: {:?}",
        tally.first_failure.lock().unwrap()
    );
    assert!(
        during > 20 && ok > during,
        "too few requests to mean anything: {ok}"
    );
    drop((a, b));
    p.run(&["down", "--yes"]).ok();
    proxy.shutdown().await;
}
