//! `down` against moto: it deletes everything, runs twice, and cleans up after an
//! interrupted `up`.

mod common;

use std::time::Duration;

use common::census::{census, empty, owner};
use common::{Project, clients, moto};
use faultproxy::{Proxy, Weights};

/// Nothing of the stack left, counted kind by kind in the emulator by the census.
async fn assert_nothing_left(moto: &str, n: &str) {
    assert_eq!(census(moto, n).await, empty(), "left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn down_leaves_nothing_and_runs_twice() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    let refused = p.run(&["down"]);
    assert_eq!(refused.code, 2, "no --yes and no terminal: refuse");
    assert!(refused.stderr.contains("--yes"));
    let down = p.run(&["down", "--yes"]).ok();
    assert!(
        down.stdout.contains("Deleted everything"),
        "{}",
        down.stdout
    );
    assert_nothing_left(&moto, &p.name).await;
    let again = p.run(&["down", "--yes"]).ok();
    assert!(
        again.stdout.contains("Nothing to delete"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn down_after_an_interrupted_up_leaves_nothing() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    // Every response slowed down, so the kill lands in the middle of the run.
    let mut cfg = common::faults(&moto, 7, 1.0);
    cfg.weights = Weights {
        slow: 1,
        ..Weights::none()
    };
    cfg.slow = (Duration::from_millis(150), Duration::from_millis(150));
    cfg.situational_off();
    let proxy = Proxy::start(cfg).await.unwrap();
    let mut child = p
        .command(&proxy.url(), &["up"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(p.path().join("up.err")).unwrap())
        .spawn()
        .unwrap();
    // Wait until something exists, then kill mid-way. `up` builds the image before
    // its first AWS call, and on a clean checkout that build takes minutes.
    let aws = clients(&moto).await;
    let started = std::time::Instant::now();
    loop {
        let vpcs = aws
            .ec2
            .describe_vpcs()
            .set_filters(Some(owner(&p.name)))
            .send()
            .await
            .unwrap();
        if !vpcs.vpcs().is_empty() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let err = std::fs::read_to_string(p.path().join("up.err")).unwrap();
            panic!("up ended ({status}) before making a VPC:\n{err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "up made no VPC in 15 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "up was interrupted");
    proxy.shutdown().await;
    let plan = p.run(&["plan"]).ok();
    assert!(
        plan.stdout.contains("to add"),
        "the interrupted up left work to do:\n{}",
        plan.stdout
    );
    // The killed run still holds the lock: breaking it is explicit.
    let locked = p.run(&["down", "--yes"]);
    assert_eq!(locked.code, 1, "{}", locked.all());
    assert!(
        locked.stderr.contains("is locked by `up`"),
        "{}",
        locked.all()
    );
    let down = p.run(&["down", "--yes", "--force-unlock"]).ok();
    assert!(down.stdout.contains("Breaking the lock"), "{}", down.stdout);
    assert_nothing_left(&moto, &p.name).await;
}
