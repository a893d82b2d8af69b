//! The rollout watcher never hangs: a deployment whose tasks stop fails fast with their
//! reason and the service goes back to its last good revision; a rollout that does not
//! finish in time fails at the deadline; a fixed deploy then succeeds.

mod common;

use std::time::{Duration, Instant};

use common::{Project, clients, moto};
use faultproxy::{FaultConfig, Profile, Proxy};

async fn proxy(moto: &str, rollout: Duration) -> faultproxy::ProxyHandle {
    let mut cfg =
        FaultConfig::new(common::upstream(moto), 2, 0.0).with_profile(Profile::Passthrough);
    cfg.ecs_rollout = rollout;
    Proxy::start(cfg).await.unwrap()
}

async fn deployed(aws: &stackctl::aws::Aws, p: &Project) -> String {
    let out = aws
        .ecs
        .describe_services()
        .cluster(format!("{}-default", p.name))
        .services(format!("{}-default-api", p.name))
        .send()
        .await
        .unwrap();
    out.services()[0].task_definition().unwrap().to_string()
}

fn set_log_level(p: &Project, level: &str) {
    let path = p.stack_file();
    let yaml = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = yaml
        .lines()
        .filter(|l| !l.contains("RUST_LOG"))
        .map(String::from)
        .collect();
    let at = lines.iter().position(|l| l.contains("token:")).unwrap() + 1;
    lines.insert(at, format!("    env: {{ RUST_LOG: {level} }}"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_tasks_fail_the_rollout_fast_and_roll_back() {
    let Some(moto) = moto() else { return };
    let proxy = proxy(&moto, Duration::from_millis(500)).await;
    let p = Project::new(&proxy.url(), "");
    p.run(&["up"]).ok();
    let aws = clients(&proxy.url()).await;
    let good = deployed(&aws, &p).await;

    let reason = "Essential container in task exited";
    proxy.fail_deployments(&format!("{}-default-api", p.name), reason);
    set_log_level(&p, "debug");
    let started = Instant::now();
    let failed = p.run(&["up", "--timeout", "10m"]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "did not fail fast: {:?}",
        started.elapsed()
    );
    let err = &failed.stderr;
    assert!(err.contains("rollout of api failed"), "{err}");
    assert!(
        err.contains(reason),
        "the stopped tasks' reason is shown: {err}"
    );
    assert!(err.contains("put back on"), "{err}");
    assert_eq!(
        deployed(&aws, &p).await,
        good,
        "back on the last good revision"
    );

    // Fixed: the next up deploys the new revision and succeeds.
    proxy.clear_deployment_failures();
    let ok = p.run(&["up"]).ok();
    assert!(ok.stdout.contains("roll out api"), "{}", ok.stdout);
    assert_ne!(deployed(&aws, &p).await, good);
    p.run(&["down", "--yes"]).ok();
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_that_never_finishes_stops_at_the_deadline() {
    let Some(moto) = moto() else { return };
    let quick = proxy(&moto, Duration::from_millis(500)).await;
    let p = Project::new(&quick.url(), "");
    p.run(&["up"]).ok();
    let aws = clients(&quick.url()).await;
    let good = deployed(&aws, &p).await;
    quick.shutdown().await;

    // ECS takes ten minutes here; the user gave it three seconds.
    let slow = proxy(&moto, Duration::from_secs(600)).await;
    set_log_level(&p, "debug");
    let started = Instant::now();
    let run = p.run_via(&slow.url(), &["up", "--timeout", "3s"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("not healthy after"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(60));
    let aws = clients(&slow.url()).await;
    assert_eq!(
        deployed(&aws, &p).await,
        good,
        "back on the last good revision"
    );
    slow.shutdown().await;
    let quick = proxy(&moto, Duration::from_millis(500)).await;
    p.run_via(&quick.url(), &["down", "--yes"]).ok();
    quick.shutdown().await;
}
