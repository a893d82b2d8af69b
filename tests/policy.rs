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
    // With autoscaling, a database, a domain, a routed service the API calls by name, so
    // their calls and the private network's are checked too.
    let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("apps/api");
    let p = Project::new(
        &moto,
        &format!(
            "    scaling: {{ min: 2, max: 4, cpu: 60, requests: 500 }}\n    calls: [worker]\n  worker: {{ build: {}, port: 8081, health: /status, public: {{ paths: [/worker/*] }} }}\ndatabase:\n  version: \"18\"\n  services: [api]\n",
            api.display()
        ),
    );
    let zone = format!("{}.example.com", p.name);
    let r53 = common::clients(&moto).await.route53;
    let made = r53
        .create_hosted_zone()
        .name(&zone)
        .caller_reference(&p.name);
    made.send().await.unwrap();
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    // With CI roles, so GitHub's provider and the roles' policies are checked too.
    let ci = "ci:\n  github: { repository: octo-org/policy }\n";
    std::fs::write(p.stack_file(), format!("{yaml}domain: api.{zone}\n{ci}")).unwrap();
    let runs: [(&[&str], Cmd); 8] = [
        (&["up"], Cmd::Up),
        // `plan` reads what `status` reads: the CI plan role holds that.
        (&["plan"], Cmd::Status),
        (&["status"], Cmd::Status),
        (&["logs", "api"], Cmd::Logs),
        (&["token", "api"], Cmd::Token),
        (&["rotate-token", "api"], Cmd::RotateToken),
        // The stack's URL and token come from the account; its domain resolves nowhere here,
        // so the steps themselves fail (exit 1).
        (&["check", "smoke", "--request-timeout", "2s"], Cmd::Check),
        (&["down", "--yes"], Cmd::Down),
    ];
    let mut missing = Vec::new();
    let mut seen_total = 0;
    let mut seen_rds = Vec::new();
    let mut seen_scaling = Vec::new();
    for (args, cmd) in runs {
        let before = proxy.stats().calls;
        let run = p.run_via(&proxy.url(), args);
        let ran = run.code == 0 || (cmd == Cmd::Check && run.stdout.contains("Smoke check of"));
        assert!(ran, "{args:?}:\n{}", run.all());
        let calls = since(&before, &proxy.stats().calls);
        seen_total += calls.len();
        for call in calls {
            // The proxy names services by their signing name; IAM says `tag:`.
            let call = call.replace("tagging:", "tag:");
            if call.starts_with("rds:") {
                seen_rds.push(call.clone());
            }
            if call.starts_with("application-autoscaling:")
                || call.starts_with("acm:")
                || call.starts_with("route53:")
                || call.starts_with("servicediscovery:")
                || call.contains("Rule")
            {
                seen_scaling.push(call.clone());
            }
            // `up` also changes who may deploy from CI (`Access`).
            let allowed_to = |cmds: &[Cmd]| {
                cmds.contains(&cmd) || (cmd == Cmd::Up && cmds.contains(&Cmd::Access))
            };
            let allowed = permissions::all()
                .iter()
                .any(|(action, _, cmds)| *action == call && allowed_to(cmds))
                || (call == "iam:CreateServiceLinkedRole" && cmd == Cmd::Up);
            if !allowed {
                missing.push(format!("{args:?} calls {call}"));
            }
        }
    }
    proxy.shutdown().await;
    assert!(seen_total > 40, "only {seen_total} distinct calls seen");
    for want in [
        "rds:CreateDBInstance",
        "rds:DeleteDBInstance",
        "rds:DeleteDBSubnetGroup",
    ] {
        assert!(
            seen_rds.iter().any(|c| c == want),
            "{want} not seen: {seen_rds:?}"
        );
    }
    for want in [
        "acm:RequestCertificate",
        "acm:DeleteCertificate",
        "route53:ChangeResourceRecordSets",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DescribeScalingActivities",
        "application-autoscaling:DeregisterScalableTarget",
        "servicediscovery:CreatePrivateDnsNamespace",
        "servicediscovery:GetOperation",
        "servicediscovery:CreateService",
        "servicediscovery:DeleteService",
        "servicediscovery:DeleteNamespace",
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule",
    ] {
        assert!(
            seen_scaling.iter().any(|c| c == want),
            "{want} not seen: {seen_scaling:?}"
        );
    }
    assert!(
        missing.is_empty(),
        "calls not in src/aws/permissions.rs for their command:\n{}",
        missing.join("\n")
    );
}

/// A stack whose names make the policy longer than one managed policy may be (IAM: 6,144
/// characters without whitespace): `stackctl policy` says so and prints it in parts IAM
/// accepts, each with every statement once.
#[test]
fn a_policy_too_long_for_one_managed_policy_is_printed_in_parts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(root.join("stack.yaml")).unwrap();
    let yaml = yaml.replace("name: demo", "name: payments-api").replace(
        "build: apps/api",
        &format!("build: {}", root.join("apps/api").display()),
    );
    std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
    let policy = |extra: &[&str]| {
        let mut args = vec!["policy", "--account", "123456789012", "--env", "prod"];
        args.extend(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .args(&args)
            .current_dir(dir.path())
            .env_remove("STACKCTL_FILE")
            .env_remove("STACKCTL_ENV")
            .output()
            .unwrap()
    };
    let whole = policy(&[]);
    let err = String::from_utf8_lossy(&whole.stderr);
    assert_eq!(whole.status.code(), Some(1), "{err}");
    assert!(whole.stdout.is_empty());
    assert!(
        err.contains("over the 6144 IAM allows one managed policy: it comes in 3 parts"),
        "{err}"
    );
    assert!(
        err.contains("hint: print each with `stackctl policy --part 1` to `--part 3`"),
        "{err}"
    );
    let mut sids = Vec::new();
    for k in ["1", "2", "3"] {
        let out = policy(&["--part", k]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc.to_string().len() <= 6144,
            "part {k}: {} characters",
            doc.to_string().len()
        );
        for s in doc["Statement"].as_array().unwrap() {
            sids.push(s["Sid"].as_str().unwrap().to_string());
        }
    }
    let n = sids.len();
    sids.sort();
    sids.dedup();
    assert_eq!(sids.len(), n, "a statement in two parts");
    let fourth = policy(&["--part", "4"]);
    assert_eq!(fourth.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&fourth.stderr).contains("has 3 parts"));
}
