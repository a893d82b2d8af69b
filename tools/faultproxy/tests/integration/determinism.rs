//! Same seed and same request sequence → same faults.

use crate::common::{quiet, sdk, start};
use crate::moto_or_skip;
use faultproxy::{FaultConfig, FaultKind, Weights};
use std::time::Duration;

/// Runs a fixed sequence of calls (no SDK retries) through a proxy seeded `seed`; returns
/// (per-call outcome, fault log as (key, n, kind)).
async fn run(moto: &str, seed: u64) -> (Vec<bool>, Vec<(String, u64, FaultKind)>) {
    let mut cfg = FaultConfig {
        weights: Weights::default(),
        ..quiet(moto, seed, 0.4)
    };
    cfg.slow = (Duration::from_millis(1), Duration::from_millis(3));
    let proxy = start(cfg).await;
    let conf = sdk(&proxy.url(), 1).await;
    let (ec2, iam, ecs) = (
        aws_sdk_ec2::Client::new(&conf),
        aws_sdk_iam::Client::new(&conf),
        aws_sdk_ecs::Client::new(&conf),
    );
    let mut outcomes = Vec::new();
    for i in 0..15 {
        outcomes.push(ec2.describe_vpcs().send().await.is_ok());
        outcomes.push(iam.list_roles().send().await.is_ok());
        if i % 3 == 0 {
            outcomes.push(ecs.list_clusters().send().await.is_ok());
        }
    }
    let log = proxy
        .faults()
        .into_iter()
        .map(|f| (f.key, f.n, f.kind))
        .collect();
    proxy.shutdown().await;
    (outcomes, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_fault_sequence() {
    let moto = moto_or_skip!();
    let (a_outcomes, a) = run(&moto, 1234).await;
    let (b_outcomes, b) = run(&moto, 1234).await;
    assert!(
        !a.is_empty() && a.len() < a_outcomes.len(),
        "rate 0.4 should fault some calls: {a:?}"
    );
    assert_eq!(a, b);
    assert_eq!(a_outcomes, b_outcomes);
    let (_, c) = run(&moto, 99).await;
    assert_ne!(a, c, "another seed, another sequence");
}
