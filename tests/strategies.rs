//! `deploy: blue-green` and `deploy: canary` against the ECS emulation (fault proxy in front
//! of moto: ECS's own strategies, the production rule's weights) and the data plane front
//! (tests/common/lb.rs: each task in podman, requests split between the two target groups by
//! the listener's weights), while a client keeps calling:
//! - no request fails;
//! - blue/green: the new version answers once ECS moves every request to it, at once;
//! - canary: both answer during the canary's wait, the new one about its percent;
//! - after `up`, only the new version answers, and a second `up` plans nothing;
//! - `rollback` during the bake time goes back at once, none failed (after it, the same way
//!   as the deploy: with `STACKCTL_STRATEGY_ROLLBACKS=1`);
//! - `down` leaves nothing.

mod common;

use std::time::{Duration, Instant};

use common::census::{census, empty};
use common::fronted::{self, Fronted};
use common::hammer::Hammer;

/// A minute of the strategies' waits lasts a rollout here.
const ROLLOUT: Duration = Duration::from_secs(4);

/// Release 2 (a new environment variable: a new task definition revision) under a client;
/// returns the client, when `up` started and ended (seconds on the client's clock), and
/// what `up` printed.
async fn release(f: &Fronted) -> (Hammer, f64, f64, String) {
    let p = &f.project;
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let hammer = Hammer::start(&f.lb.url, &token);
    let deadline = Instant::now() + Duration::from_secs(60);
    while hammer.answered_since(0.0) < 10 {
        assert!(Instant::now() < deadline, "the client got no answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    yaml.push_str("    env:\n      RELEASE: \"2\"\n");
    std::fs::write(p.stack_file(), yaml).unwrap();
    let before = hammer.now();
    let up = p.run(&["up"]).ok();
    let after = hammer.now();
    assert_eq!(f.running().await, format!("{}:2", f.service));
    // Answers after `up` returned: by then ECS has stopped the old tasks.
    let deadline = Instant::now() + Duration::from_secs(60);
    while hammer.answered_since(after) < 20 {
        assert!(Instant::now() < deadline, "no answer after up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (hammer, before, after, up.all())
}

/// `stackctl rollback` after the deployment finished (a new deployment of revision 1 with the
/// same strategy) under the client: how long it took, and answers by revision 2 a second after.
/// Only with `STACKCTL_STRATEGY_ROLLBACKS=1` (a minute more of CI): (0, 0) otherwise.
async fn roll_back(f: &Fronted, hammer: &Hammer) -> (f64, usize) {
    if std::env::var_os("STACKCTL_STRATEGY_ROLLBACKS").is_none() {
        return (0.0, 0);
    }
    let before = hammer.now();
    f.project.run(&["rollback"]).ok();
    let after = hammer.now();
    assert_eq!(f.running().await, format!("{}:1", f.service));
    let deadline = Instant::now() + Duration::from_secs(60);
    while hammer.answered_since(after) < 20 {
        assert!(Instant::now() < deadline, "no answer after the rollback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (after - before, hammer.by(":2", after + 1.0, f64::MAX))
}

fn no_change(f: &Fronted) {
    let again = f.project.run(&["plan"]).ok();
    assert!(
        again.stdout.contains("No changes"),
        "ECS's weights and groups are left alone:\n{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_moves_every_request_at_once_with_none_failed() {
    let extra = "    deploy: { strategy: blue-green, bake_minutes: 2 }\n";
    let Some(f) = fronted::deploy(21, ROLLOUT, extra).await else {
        return;
    };
    let (hammer, before, after, up) = release(&f).await;
    let first_2 = hammer.first(":2").expect("revision 2 answered");
    // The front follows the weights every 200 ms: a second after the switch, only 2.
    let late_1 = hammer.by(":1", first_2 + 1.0, f64::MAX);
    no_change(&f);
    let (rolled, late_2) = roll_back(&f, &hammer).await;
    let (answered, failures, why) = hammer.stop().await;
    eprintln!(
        "[strategies] blue-green: up took {:.1}s; revision 2 first answered {:.1}s into up; revision 1 answered {late_1} times from 1s after that; rollback (a blue/green deployment of revision 1) took {rolled:.1}s; {answered} answered, {failures} failed in all",
        after - before,
        first_2 - before,
    );
    assert_eq!(late_2, 0, "only revision 1 after the rollback");
    assert_eq!(failures, 0, "first failure: {why:?}\n{:#?}", f.lb.journal());
    assert_eq!(late_1, 0, "every request moved at once");
    assert!(
        up.contains(
            "(every request on the new version); the old version is kept for the bake time (2 min)"
        ),
        "{up}"
    );
    // `down` finds the second target group and the infrastructure role too.
    f.project.run(&["down", "--yes"]).ok();
    let moto = common::moto().unwrap();
    assert_eq!(census(&moto, &f.project.name).await, empty(), "left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_gets_its_share_then_everything_with_none_failed() {
    let extra = "    deploy: { strategy: canary, percent: 20, wait_minutes: 3, bake_minutes: 1 }\n";
    let Some(f) = fronted::deploy(22, ROLLOUT, extra).await else {
        return;
    };
    let (hammer, before, after, up) = release(&f).await;
    let first_2 = hammer.first(":2").expect("revision 2 answered");
    let last_1 = hammer.last(":1").expect("revision 1 answered");
    // The canary's wait: both answer, the new version about a fifth of the requests.
    let (old, new) = (
        hammer.by(":1", first_2, last_1),
        hammer.by(":2", first_2, last_1),
    );
    let after_1 = hammer.by(":1", after, f64::MAX);
    no_change(&f);
    let (rolled, late_2) = roll_back(&f, &hammer).await;
    let (answered, failures, why) = hammer.stop().await;
    let share = new as f64 / (old + new).max(1) as f64;
    eprintln!(
        "[strategies] canary 20%: up took {:.1}s; during the canary ({:.1}s) {new} by revision 2 and {old} by revision 1 ({:.0}%); rollback (a canary deployment of revision 1) took {rolled:.1}s; {answered} answered, {failures} failed in all",
        after - before,
        last_1 - first_2,
        share * 100.0
    );
    assert_eq!(late_2, 0, "only revision 1 after the rollback");
    assert_eq!(failures, 0, "first failure: {why:?}\n{:#?}", f.lb.journal());
    assert!(old + new > 100, "the canary's wait was seen: {old} + {new}");
    assert!((0.12..=0.30).contains(&share), "the canary got {share:.2}");
    assert_eq!(after_1, 0, "only the new version after up");
    assert!(up.contains("moving requests to the new version"), "{up}");
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_from_rolling_to_linear_moves_requests_step_by_step_with_none_failed() {
    let Some(f) = fronted::deploy(23, ROLLOUT, "").await else {
        return;
    };
    let mut yaml = std::fs::read_to_string(f.project.stack_file()).unwrap();
    yaml.push_str(
        "    deploy: { strategy: linear, percent: 50, wait_minutes: 2, bake_minutes: 0 }\n",
    );
    std::fs::write(f.project.stack_file(), yaml).unwrap();
    let plan = f.project.run(&["plan"]).ok();
    assert!(
        plan.stdout.contains("deploy strategy rolling → linear"),
        "{}",
        plan.stdout
    );
    let (hammer, before, after, _) = release(&f).await;
    let first_2 = hammer.first(":2").expect("revision 2 answered");
    let last_1 = hammer.last(":1").expect("revision 1 answered");
    // Half the requests each during the step at 50 %.
    let (old, new) = (
        hammer.by(":1", first_2, last_1),
        hammer.by(":2", first_2, last_1),
    );
    no_change(&f);
    let (rolled, late_2) = roll_back(&f, &hammer).await;
    let (answered, failures, why) = hammer.stop().await;
    let share = new as f64 / (old + new).max(1) as f64;
    eprintln!(
        "[strategies] rolling → linear 50%: up took {:.1}s; at the 50% step ({:.1}s) {new} by revision 2 and {old} by revision 1; rollback (a linear deployment of revision 1) took {rolled:.1}s; {answered} answered, {failures} failed in all",
        after - before,
        last_1 - first_2,
    );
    assert_eq!(failures, 0, "first failure: {why:?}\n{:#?}", f.lb.journal());
    assert!((0.35..=0.65).contains(&share), "the step got {share:.2}");
    assert_eq!(late_2, 0, "only revision 1 after the rollback");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_during_the_bake_time_moves_every_request_back_at_once() {
    // 30 minutes of bake: two minutes here, ample time to roll back within it.
    let extra = "    deploy: { strategy: blue-green, bake_minutes: 30 }\n";
    let Some(f) = fronted::deploy(24, ROLLOUT, extra).await else {
        return;
    };
    let p = &f.project;
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let mut yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    yaml.push_str("    env:\n      RELEASE: \"2\"\n");
    std::fs::write(p.stack_file(), yaml).unwrap();
    // `up` waits out the bake time; a user who sees the release is wrong stops it with
    // Ctrl-C (the run lock is released) and rolls back.
    let log = p.path().join("up.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut up = p
        .command(&f.proxy.url(), &["up"])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("Ctrl-C, then `stackctl rollback api`")
    {
        assert!(
            Instant::now() < deadline,
            "never baking: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hammer = Hammer::start(&f.lb.url, &token);
    // The front follows the weights every 200 ms: from a second on, only 2.
    while hammer.answered_since(1.0) < 20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        hammer.by(":1", 1.0, f64::MAX),
        0,
        "baking: every request on 2"
    );
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(up.id() as i32, libc::SIGINT) };
    let stopped = up.wait().unwrap();
    assert!(!stopped.success(), "up was interrupted");
    let before = hammer.now();
    let rolled = p.run(&["rollback"]).ok();
    let after = hammer.now();
    assert!(
        rolled
            .all()
            .contains("stopping the deployment moves the requests back at once"),
        "{}",
        rolled.all()
    );
    assert_eq!(f.running().await, format!("{}:1", f.service));
    let deadline = Instant::now() + Duration::from_secs(60);
    while hammer.answered_since(after) < 20 {
        assert!(Instant::now() < deadline, "no answer after the rollback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The front follows the weights every 200 ms: a second after, only 1.
    let late_2 = hammer.by(":2", after + 1.0, f64::MAX);
    let (answered, failures, why) = hammer.stop().await;
    eprintln!(
        "[strategies] blue-green rollback in the bake time: {:.1}s; {answered} answered, {failures} failed; revision 2 answered {late_2} times from 1s after it",
        after - before
    );
    assert_eq!(failures, 0, "first failure: {why:?}\n{:#?}", f.lb.journal());
    assert_eq!(late_2, 0, "every request back on revision 1");
}
