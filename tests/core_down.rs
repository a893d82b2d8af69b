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

/// Something carrying the stack's tags that stackctl does not know as its own (made by hand,
/// or by a newer stackctl): here a parameter outside the stack's prefix. `down` names it and
/// fails, until it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn down_fails_naming_anything_still_tagged_with_the_stack() {
    use aws_sdk_ssm::types::{ParameterType, Tag};
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    let aws = clients(&moto).await;
    let name = format!("/elsewhere/{}/note", p.name);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    aws.ssm
        .put_parameter()
        .name(&name)
        .value("made by hand")
        .r#type(ParameterType::String)
        .tags(tag("stackctl:stack", &p.name))
        .tags(tag("stackctl:env", "default"))
        .send()
        .await
        .unwrap();
    let down = p.run(&["down", "--yes"]);
    assert_eq!(down.code, 1, "{}", down.all());
    assert!(
        down.all().contains("Still tagged with the stack"),
        "{}",
        down.all()
    );
    assert!(
        down.all().contains(&format!("parameter{name}")),
        "names it: {}",
        down.all()
    );
    assert!(
        down.stderr.contains("still carry the stack's tags"),
        "{}",
        down.stderr
    );
    // Everything else is gone already.
    assert_nothing_left(&moto, &p.name).await;
    aws.ssm.delete_parameter().name(&name).send().await.unwrap();
    let again = p.run(&["down", "--yes"]).ok();
    assert!(
        again.stdout.contains("Nothing to delete"),
        "{}",
        again.stdout
    );
}
