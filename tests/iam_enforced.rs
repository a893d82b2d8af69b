//! Least privilege, proven against a moto of its own with IAM enforcement on.
//!
//! - `up → rotate-token → down` as an IAM user holding only what `stackctl policy` prints works;
//!   the same steps as users each missing one action fail at the step that needs it.
//!   moto evaluates actions but not resource ARNs or conditions (it sees every resource as `*`),
//!   so that user's policy has its resources widened to `*` and its conditions dropped.
//! - The resources are checked here instead: every call of the run, with the ARN it acts on, is
//!   allowed by some statement of the scoped policy, and the same call on another stack's
//!   resources is not.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::arn_scope::{ACCOUNT, check_scopes, ec2_tags, matches};
use common::enforcing::{enforce, own_moto, printed_parts, printed_policy, user};
use common::{Project, clients, moto};
use faultproxy::{FaultConfig, Proxy};
use serde_json::Value;

/// What moto can evaluate: every resource `*`, no conditions; without `remove` if given.
fn widened(mut policy: Value, remove: Option<&str>) -> String {
    for s in policy["Statement"].as_array_mut().unwrap() {
        s["Resource"] = "*".into();
        s.as_object_mut().unwrap().remove("Condition");
        if let Some(action) = remove {
            match &mut s["Action"] {
                Value::Array(list) => list.retain(|a| a != action),
                single => {
                    if single == action {
                        *single = Value::Array(vec![]);
                    }
                }
            }
        }
    }
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Action"].as_array().is_none_or(|a| !a.is_empty()));
    policy.to_string()
}

struct Step<'a> {
    p: &'a Project,
    endpoint: String,
}

impl Step<'_> {
    fn run(&self, who: &(String, String), args: &[&str]) -> common::Run {
        let out = self
            .p
            .command(&self.endpoint, args)
            .env("AWS_ACCESS_KEY_ID", &who.0)
            .env("AWS_SECRET_ACCESS_KEY", &who.1)
            .output()
            .unwrap();
        common::Run::from(out)
    }
}

/// (the action taken away, the command that must then fail), in the order they run on the one
/// stack: each run gets as far as it can, so the next one still needs its action.
const MUTATIONS: &[(&str, &str)] = &[
    ("iam:CreateRole", "up"),
    ("rds:CreateDBInstance", "up"),
    ("ecs:CreateService", "up"),
    ("application-autoscaling:RegisterScalableTarget", "up"),
    ("ssm:PutParameter", "rotate-token"),
    ("ecs:UpdateService", "rotate-token"),
    ("elasticloadbalancing:DeleteLoadBalancer", "down"),
    ("rds:DeleteDBInstance", "down"),
    ("ec2:DeleteVpc", "down"),
];

#[tokio::test(flavor = "multi_thread")]
async fn up_rotate_down_with_only_the_printed_policy_and_iam_enforced() {
    if moto().is_none() {
        return;
    }
    let moto = own_moto().await;
    let mut cfg = FaultConfig::new(moto.url.parse().unwrap(), 0, 0.0);
    cfg.journal = true;
    let proxy = Proxy::start(cfg).await.unwrap();
    // With autoscaling and a database: their calls are enforced and scoped too.
    let p = Project::new(
        &proxy.url(),
        "    scaling: { min: 2, max: 4, cpu: 60, requests: 500 }\ndatabase:\n  version: \"18\"\n  services: [api]\n",
    );
    let admin = clients(&moto.url).await;

    // Users made while moto still lets everything through.
    let scoped = printed_policy(&p, Some(ACCOUNT), None);
    // A test stack's 9-character name makes the policy too long for one managed policy: IAM
    // (moto_fidelity.py, as AWS) takes each printed part and refuses them as one document.
    let parts = printed_parts(&p, Some(ACCOUNT), None);
    assert!(parts.len() > 1, "{} part", parts.len());
    for (i, part) in parts.iter().enumerate() {
        let create = admin.iam.create_policy().policy_name(format!("part-{i}"));
        create
            .policy_document(part.to_string())
            .send()
            .await
            .unwrap();
    }
    let whole = admin.iam.create_policy().policy_name("whole");
    let refused = whole
        .policy_document(scoped.to_string())
        .send()
        .await
        .unwrap_err();
    let refused = aws_sdk_iam::error::DisplayErrorContext(refused).to_string();
    assert!(refused.contains("LimitExceeded"), "{refused}");
    let full = user(
        &admin,
        "deployer",
        widened(printed_policy(&p, None, None), None),
    )
    .await;
    let mut without = BTreeMap::new();
    for (action, _) in MUTATIONS {
        let name = format!("without-{}", action.replace(':', "-"));
        let keys = user(
            &admin,
            &name,
            widened(printed_policy(&p, None, None), Some(action)),
        )
        .await;
        without.insert(*action, keys);
    }
    let nobody = user(&admin, "nobody", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#.into()).await;
    enforce(&moto.url).await;
    let step = Step {
        p: &p,
        endpoint: proxy.url(),
    };

    // The enforcement is real: a user without the policy gets nothing.
    let refused = step.run(&nobody, &["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(
        refused.all().contains("not authorized"),
        "{}",
        refused.all()
    );

    // A clean run as the deployer: the figures.
    let started = Instant::now();
    let mut calls = 0;
    let mut ec2 = BTreeMap::new();
    for cmd in ["up", "rotate-token", "down"] {
        if cmd == "down" {
            ec2_tags(&step.endpoint, &full, &mut ec2).await;
        }
        let t = Instant::now();
        let run = step.run(&full, &cmd_args(cmd));
        assert_eq!(run.code, 0, "{cmd} with the printed policy:\n{}", run.all());
        let (r, w) = run.calls();
        calls += r + w;
        eprintln!(
            "[iam] {cmd} with the printed policy: {:.1}s, {r} reads, {w} writes",
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "[iam] up + rotate-token + down as the deployer: {calls} calls, {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // Each user missing one action is refused at the step that needs it, with the hint; the
    // deployer then finishes that step from where it stopped. Between two users of one step
    // the deployer puts the account back as it was before the step (independent branches,
    // the database and the load balancer, would otherwise be done by the first user's run).
    for cmd in ["up", "rotate-token", "down"] {
        let actions: Vec<&str> = MUTATIONS
            .iter()
            .filter(|(_, c)| *c == cmd)
            .map(|(a, _)| *a)
            .collect();
        for (i, action) in actions.iter().enumerate() {
            let undo = match cmd {
                "up" => Some("down"),
                "down" => Some("up"),
                _ => None,
            };
            if let Some(undo) = undo.filter(|_| i > 0) {
                if undo == "down" {
                    ec2_tags(&step.endpoint, &full, &mut ec2).await;
                }
                step.run(&full, &cmd_args(undo)).ok();
            }
            if cmd == "down" {
                ec2_tags(&step.endpoint, &full, &mut ec2).await;
            }
            let run = step.run(&without[action], &cmd_args(cmd));
            assert_ne!(
                run.code,
                0,
                "{cmd} without {action} succeeded:\n{}",
                run.all()
            );
            assert!(
                run.all()
                    .contains(&format!("not authorized to perform: {action}")),
                "{cmd} without {action}: {}",
                run.all()
            );
            assert!(
                run.all().contains("`stackctl policy` prints"),
                "the hint names the command that prints the policy:\n{}",
                run.all()
            );
            eprintln!("[iam] {cmd} without {action}: refused");
            step.run(&full, &cmd_args(cmd)).ok();
        }
    }

    let journal = proxy.journal();
    proxy.shutdown().await;
    check_scopes(&journal, &scoped, &p.name, &ec2);
}

fn cmd_args(cmd: &str) -> Vec<&str> {
    match cmd {
        "down" => vec!["down", "--yes"],
        "rotate-token" => vec!["rotate-token", "api"],
        other => vec![other],
    }
}

#[test]
fn the_wildcard_match_is_iams() {
    assert!(matches(
        "arn:aws:ecs:*:1:cluster/a-b",
        "arn:aws:ecs:us-east-1:1:cluster/a-b"
    ));
    assert!(matches("a/*/c", "a/x/y/c"));
    assert!(matches("*", ""));
    assert!(matches("ab?d", "abcd"));
    assert!(!matches("ab?d", "abd"));
    assert!(!matches(
        "arn:aws:ecs:*:1:cluster/a-b",
        "arn:aws:ecs:us-east-1:1:cluster/a-bc"
    ));
    assert!(!matches("role/stackctl/s/dev/*", "role/stackctl/s2/dev/x"));
}
