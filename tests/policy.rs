//! `stackctl policy` and the one table it comes from (`aws::permissions`): every AWS call a run
//! of each command makes, seen on the wire, is in the table for that command (tests/docs.rs
//! checks part1.md shows what the command prints).

mod common;

use std::collections::BTreeMap;

use common::{Project, moto};
use faultproxy::{FaultConfig, Proxy};
use stackctl::aws::permissions::{self, Cmd};

/// The calls each `(service:Action, count)` a proxy saw, minus what it had seen before.
fn since(before: &BTreeMap<String, u64>, now: &BTreeMap<String, u64>) -> Vec<String> {
    now.iter()
        .filter(|(k, n)| before.get(*k).copied().unwrap_or(0) < **n)
        .map(|(k, _)| k.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_a_command_makes_is_in_the_policy_for_that_command() {
    let Some(moto) = moto() else { return };
    // Counting only, in front of the shared ECS emulation.
    let mut cfg = FaultConfig::new(moto.parse().unwrap(), 0, 0.0);
    cfg.ecs_emulation = false;
    let proxy = Proxy::start(cfg).await.unwrap();
    let p = Project::new(&moto, "");
    let runs: [(&[&str], Cmd); 6] = [
        (&["up"], Cmd::Up),
        (&["status"], Cmd::Status),
        (&["logs", "api"], Cmd::Logs),
        (&["token", "api"], Cmd::Token),
        (&["rotate-token", "api"], Cmd::RotateToken),
        (&["down", "--yes"], Cmd::Down),
    ];
    let mut missing = Vec::new();
    let mut seen_total = 0;
    for (args, cmd) in runs {
        let before = proxy.stats().calls;
        p.run_via(&proxy.url(), args).ok();
        let calls = since(&before, &proxy.stats().calls);
        seen_total += calls.len();
        for call in calls {
            // The proxy names services by their signing name; IAM says `tag:`.
            let call = call.replace("tagging:", "tag:");
            let allowed = permissions::all()
                .iter()
                .any(|(action, _, cmds)| *action == call && cmds.contains(&cmd))
                || (call == "iam:CreateServiceLinkedRole" && cmd == Cmd::Up);
            if !allowed {
                missing.push(format!("{args:?} calls {call}"));
            }
        }
    }
    proxy.shutdown().await;
    assert!(seen_total > 40, "only {seen_total} distinct calls seen");
    assert!(
        missing.is_empty(),
        "calls not in src/aws/permissions.rs for their command:\n{}",
        missing.join("\n")
    );
}
