//! `stackctl rollback` against the ECS emulation (fault proxy in front of moto: rollouts,
//! tasks, target health, and the service's deployment history ECS keeps) and the data plane
//! front (tests/common/lb.rs: each task the emulation runs, in podman, behind a round-robin
//! front that follows target health).
//!
//! A release that is healthy but bad (a body limit of 16 bytes: payments refused with 413)
//! is rolled back while a client keeps calling: no request fails, the old behaviour is back,
//! and after the roll only the old revision answers. Then the token is rotated with
//! `--revoke-previous`: every earlier revision accepts only the revoked generation, and
//! `rollback` refuses (fails closed) without touching the service.

mod common;

use std::time::{Duration, Instant};

use common::fronted;
use common::hammer::Hammer;
use serde_json::Value;

/// POST a payment of about 1 KB: the status codes of `n` tries.
async fn payments(url: &str, token: &str, n: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let note = "x".repeat(1000);
    let mut codes = Vec::new();
    for _ in 0..n {
        let r = http
            .post(format!("{url}v1/payments"))
            .header("Authorization", format!("Token {token}"))
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"amount": "10.00", "currency": "EUR", "note": "{note}"}}"#
            ))
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    codes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_release_is_rolled_back_with_no_failed_request_and_never_to_a_revoked_token() {
    let Some(f) = fronted::deploy(11, Duration::from_secs(4), "").await else {
        return;
    };
    let (p, lb) = (&f.project, &f.lb);
    let url = lb.url.clone();
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let good = payments(&url, &token, 4).await;
    assert!(!good.contains(&413), "revision 1 takes a payment: {good:?}");

    // The bad release: healthy, but it refuses any body over 16 bytes.
    let mut yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    yaml.push_str("    env:\n      MAX_BODY_BYTES: \"16\"\n");
    std::fs::write(p.stack_file(), yaml).unwrap();
    p.run(&["up"]).ok();
    assert_eq!(f.running().await, format!("{}:2", f.service));
    // Once the front sends only to revision 2's tasks, payments are refused.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut bad = payments(&url, &token, 4).await;
    while bad != [413; 4] && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        bad = payments(&url, &token, 4).await;
    }
    assert_eq!(bad, [413; 4], "revision 2 refuses payments");
    let status = p.run(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("api can roll back to revision 1 (healthy "),
        "{}",
        status.stdout
    );

    // Roll back while a client keeps calling through the front.
    let hammer = Hammer::start(&url, &token);
    let started = hammer.started;
    let until = |what: &'static str, ok: &dyn Fn() -> bool| {
        assert!(
            ok() || started.elapsed() < Duration::from_secs(300),
            "{what}"
        );
        !ok()
    };
    while until("the client got no answer", &|| {
        hammer.answered_since(0.0) >= 10
    }) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = started.elapsed().as_secs_f64();
    let rolled = p.run(&["rollback"]).ok();
    let after = started.elapsed().as_secs_f64();
    assert!(
        rolled
            .stderr
            .contains("api rolled back from revision 2 to 1 in "),
        "{}",
        rolled.stderr
    );
    // From when the front has only revision 1's tasks in service, it alone answers.
    let only_1 = || {
        let now = f.lb.in_service();
        !now.is_empty() && now.iter().all(|r| r.ends_with(":1"))
    };
    while until("revision 2 never left the front", &only_1) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let settled = started.elapsed().as_secs_f64();
    while until("no answer after revision 2 left", &|| {
        hammer.answered_since(settled) >= 20
    }) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let by = |rev: &str, from: f64, to: f64| hammer.by(rev, from, to);
    let counts = (
        by(":2", 0.0, before),
        by(":2", before, settled),
        by(":1", before, settled),
        by(":1", settled, f64::MAX),
        by(":2", settled, f64::MAX),
    );
    let (ok, failed, first_failure) = hammer.stop().await;
    eprintln!("[rollback] stackctl rollback printed:\n{}", rolled.stderr);
    eprintln!(
        "[rollback] rolling back took {:.1}s; {ok} requests answered, {failed} failed; before: {} by :2; during: {} by :2, {} by :1; after: {} by :1, {} by :2",
        after - before,
        counts.0,
        counts.1,
        counts.2,
        counts.3,
        counts.4,
    );
    assert_eq!(
        failed,
        0,
        "first failure: {first_failure:?}\n{:#?}",
        lb.journal()
    );
    assert!(counts.0 > 5, "the client called the bad release");
    assert!(counts.3 > 10, "and revision 1 after");
    assert_eq!(counts.4, 0, "revision 2 answers no more");
    assert_eq!(f.running().await, format!("{}:1", f.service));
    let back = payments(&url, &token, 4).await;
    assert!(!back.contains(&413), "payments taken again: {back:?}");

    // Rolled back from 2: a plain `rollback` does not go forward to it again, `--to` would.
    let status = p.run(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("api can roll forward to revision 2 (healthy "),
        "{}",
        status.stdout
    );
    let again = p.run(&["rollback"]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(
        again.stderr.contains(
            "no revision before 1 ran healthy (only later ones: 2; `--to` one rolls forward)"
        ),
        "{}",
        again.stderr
    );

    // A rotation that revokes the previous token: every earlier revision reads only it.
    let rotated = p.run(&["rotate-token", "--revoke-previous"]).ok();
    assert!(
        rotated.stderr.contains("(rolled back), not ")
            && rotated
                .stderr
                .contains("deploys stack.yaml's version again"),
        "rotate-token says it deploys stack.yaml's version:\n{}",
        rotated.stderr
    );
    assert_eq!(f.running().await, format!("{}:3", f.service));
    let status = p.run(&["status", "-o", "json"]).ok();
    let s: Value = serde_json::from_str(&status.stdout).unwrap();
    let revisions = &s["rollback"][0]["revisions"];
    assert_eq!(revisions.as_array().map(Vec::len), Some(2), "{revisions}");
    for r in revisions.as_array().unwrap() {
        let why = r["blocked"].as_str().unwrap_or_default();
        assert!(why.contains("token generation 1, which was revoked"), "{r}");
    }
    let refused = p.run(&["rollback"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains(
            "cannot roll back api: revision 1: it accepts token generation 1, which was revoked"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("no revision ECS recorded can serve now"),
        "{}",
        refused.stderr
    );
    let named = p.run(&["rollback", "--to", "2"]);
    assert!(
        named
            .stderr
            .contains("revision 2: it accepts token generation 1"),
        "{}",
        named.all()
    );
    let missing = p.run(&["rollback", "--to", "99"]);
    assert!(
        missing
            .stderr
            .contains("revision 99: ECS has no such revision"),
        "{}",
        missing.all()
    );
    let same = p.run(&["rollback", "--to", "3"]);
    assert!(
        same.stderr.contains("already runs revision 3"),
        "{}",
        same.all()
    );
    for r in [&named, &missing, &same] {
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(!r.all().contains(&token), "the token was printed");
    }
    assert_eq!(
        f.running().await,
        format!("{}:3", f.service),
        "a refused rollback changes nothing"
    );
    p.run(&["down", "--yes"]).ok();
    f.proxy.shutdown().await;
}
