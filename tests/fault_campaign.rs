//! Seeded fault campaign: for each seed, `up` then `down` through the fault proxy at 20 %
//! with the realistic mix (throttling, 5xx, resets, slow and lost responses, eventual
//! consistency, DependencyViolation). `up` must converge to exactly what a fault-free `up`
//! makes (plan through a clean connection: no changes; one of each resource, no duplicates),
//! and `down` must leave nothing. Seeds 1..=STACKCTL_FAULT_RUNS (default 6; the full
//! campaign is `scripts/bench/faults.sh`, 50 runs; STACKCTL_FAULT_SEEDS=3,17 replays seeds).
//! Even seeds deploy the production shape: a domain over HTTPS (its own hosted zone) and
//! autoscaling, so ACM's, Route 53's and Application Auto Scaling's calls meet faults too;
//! seeds 3, 7, 11… several services: a routed one the API calls by name (listener rules, the
//! Cloud Map namespace and service).

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::census::{census, duplicates, empty, expected, expected_with_domain, short};
use common::{Project, Run, clients, moto};
use faultproxy::{FaultKind, Profile, Proxy};
use futures::StreamExt;

const RATE: f64 = 0.2;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Outcome {
    seed: u64,
    faults: BTreeMap<FaultKind, u64>,
    up: (i32, f64),
    down: (i32, f64),
    left: String,
    problems: Vec<String>,
    log: String,
}

async fn run(p: &Project, endpoint: &str, args: &[&str]) -> (Run, f64) {
    let mut cmd = p.command(endpoint, args);
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (Run::from(out), start.elapsed().as_secs_f64())
}

fn tail(run: &Run) -> String {
    let all = run.all();
    let lines: Vec<&str> = all.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// A project with a domain in a hosted zone of its own, and autoscaling.
async fn production_shape(moto: &str) -> Project {
    let p = Project::new(
        moto,
        "    scaling: { min: 2, max: 4, cpu: 60, requests: 500 }\n",
    );
    let zone = format!("{}.example.com", p.name);
    clients(moto)
        .await
        .route53
        .create_hosted_zone()
        .name(&zone)
        .caller_reference(&p.name)
        .send()
        .await
        .unwrap();
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(p.stack_file(), format!("{yaml}domain: api.{zone}\n")).unwrap();
    p
}

/// A project whose API calls a second service, `worker`, routed by path.
fn several_services(moto: &str) -> Project {
    let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("apps/api");
    Project::new(
        moto,
        &format!(
            "    calls: [worker]\n  worker: {{ build: {}, port: 8081, health: /status, public: {{ paths: [/worker/*] }} }}\n",
            api.display()
        ),
    )
}

async fn one(moto: &str, seed: u64) -> Outcome {
    let full = seed.is_multiple_of(2);
    let several = seed % 4 == 3;
    let p = if full {
        production_shape(moto).await
    } else if several {
        several_services(moto)
    } else {
        Project::new(moto, "")
    };
    let mut want = if full {
        let mut c = expected_with_domain();
        *c.get_mut("scaling").unwrap() += 1;
        c
    } else {
        expected()
    };
    if several {
        for kind in [
            "sg",
            "ecr",
            "logs",
            "role",
            "taskdef",
            "service",
            "tg",
            "routes",
            "namespace",
            "discovery",
        ] {
            *want.get_mut(kind).unwrap() += 1;
        }
    }
    let cfg = common::faults(moto, seed, RATE).with_profile(Profile::Realistic);
    let proxy = Proxy::start(cfg).await.unwrap();
    let mut problems = Vec::new();

    let (up, up_secs) = run(&p, &proxy.url(), &["up"]).await;
    if up.code != 0 {
        problems.push(format!("up failed:\n{}", tail(&up)));
    }
    let (plan, _) = run(&p, moto, &["plan", "--detailed-exitcode"]).await;
    if plan.code != 0 {
        problems.push(format!("not converged after up:\n{}", plan.stdout));
    }
    let made = census(moto, &p.name).await;
    if made != want {
        problems.push(format!(
            "after up: {} (duplicates: {:?})",
            short(&made),
            duplicates(&made)
        ));
    }

    let (down, down_secs) = run(&p, &proxy.url(), &["down", "--yes"]).await;
    if down.code != 0 {
        problems.push(format!("down failed:\n{}", tail(&down)));
    }
    let left = census(moto, &p.name).await;
    if left != empty() {
        problems.push(format!("left after down: {}", short(&left)));
        // Leave the emulator clean for the other tests.
        run(&p, moto, &["down", "--yes", "--force-unlock"]).await;
    }
    let log = proxy
        .faults()
        .iter()
        .map(|f| {
            format!(
                "  #{} {} (call {}): {} {}",
                f.seq, f.key, f.n, f.kind, f.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let faults = proxy.stats().faults;
    proxy.shutdown().await;
    Outcome {
        seed,
        faults,
        up: (up.code, up_secs),
        down: (down.code, down_secs),
        left: if left == empty() {
            "0".into()
        } else {
            short(&left)
        },
        problems,
        log,
    }
}

fn table(outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{:>4}  {:>6}  {:<64}  {:>10}  {:>10}  {}\n",
        "seed", "faults", "by kind", "up", "down", "leftovers"
    );
    for o in outcomes {
        let kinds = o
            .faults
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let result = |(code, secs): (i32, f64)| {
            format!("{} {secs:.1}s", if code == 0 { "ok" } else { "FAIL" })
        };
        out += &format!(
            "{:>4}  {:>6}  {:<64}  {:>10}  {:>10}  {}\n",
            o.seed,
            o.faults.values().sum::<u64>(),
            kinds,
            result(o.up),
            result(o.down),
            o.left
        );
    }
    let mut total: BTreeMap<FaultKind, u64> = BTreeMap::new();
    for (k, n) in outcomes.iter().flat_map(|o| &o.faults) {
        *total.entry(*k).or_default() += n;
    }
    let failed = outcomes.iter().filter(|o| !o.problems.is_empty()).count();
    out += &format!(
        "{} runs at {:.0} % ({} failed); faults injected: {}\n",
        outcomes.len(),
        RATE * 100.0,
        failed,
        total
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn up_and_down_survive_seeded_faults() {
    let Some(moto) = moto() else { return };
    let runs = env_num("STACKCTL_FAULT_RUNS", 6);
    let first = env_num("STACKCTL_FAULT_FIRST_SEED", 1);
    let parallel = env_num("STACKCTL_FAULT_PARALLEL", 3).max(1) as usize;
    // STACKCTL_FAULT_SEEDS=12,31 replays chosen seeds.
    let seeds: Vec<u64> = match std::env::var("STACKCTL_FAULT_SEEDS") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => (first..first + runs).collect(),
    };
    let start = Instant::now();
    let mut outcomes: Vec<Outcome> = futures::stream::iter(seeds)
        .map(|seed| one(&moto, seed))
        .buffer_unordered(parallel)
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.seed);
    let table = table(&outcomes);
    eprintln!("{table}campaign took {:.0}s", start.elapsed().as_secs_f64());
    if let Ok(dir) = std::env::var("STACKCTL_TEST_STATE") {
        let _ = std::fs::write(format!("{dir}/fault-campaign.txt"), &table);
    }
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| {
            format!(
                "seed {}:\n{}\nfaults injected:\n{}",
                o.seed,
                o.problems.join("\n"),
                o.log
            )
        })
        .collect();
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n\n"));
}

/// A delete AWS refuses for good (another group's rule references the load balancer's group)
/// is retried with backoff until its deadline, then fails naming the cause, instead of spinning;
/// the lock is released, and once the reference is gone `down` finishes.
#[tokio::test(flavor = "multi_thread")]
async fn a_delete_that_can_never_succeed_fails_clearly() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    let aws = common::clients(&moto).await;
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(format!("{}-default-alb", p.name))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let alb = &groups.security_groups()[0];
    let foreign = aws
        .ec2
        .create_security_group()
        .group_name(format!("{}-not-ours", p.name))
        .description("made by hand, references the stack's group")
        .vpc_id(alb.vpc_id().unwrap())
        .send()
        .await
        .unwrap();
    let foreign = foreign.group_id().unwrap();
    let from_alb = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(8080)
        .to_port(8080)
        .user_id_group_pairs(
            aws_sdk_ec2::types::UserIdGroupPair::builder()
                .group_id(alb.group_id().unwrap())
                .build(),
        )
        .build();
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(foreign)
        .ip_permissions(from_alb)
        .send()
        .await
        .unwrap();

    let mut cfg = common::faults(&moto, 1, 0.0);
    cfg.sg_references = faultproxy::Chance::Fixed(1.0);
    let proxy = Proxy::start(cfg).await.unwrap();
    let mut cmd = p.command(&proxy.url(), &["down", "--yes"]);
    // The 20-minute drain deadline, scaled down to 6 s.
    cmd.env("STACKCTL_BACKOFF_SCALE", "0.005");
    let down = tokio::task::spawn_blocking(move || Run::from(cmd.output().unwrap()))
        .await
        .unwrap();
    assert_eq!(down.code, 1, "{}", down.all());
    assert!(
        down.stderr.contains("DependencyViolation") && down.stderr.contains("still failing after"),
        "{}",
        down.all()
    );
    assert!(
        down.stdout.contains("Still present after down"),
        "{}",
        down.stdout
    );
    assert!(
        down.stderr
            .contains("hint: something outside this stack still uses it"),
        "{}",
        down.stderr
    );
    assert!(
        proxy.stats().faults_of(FaultKind::SgReferenced) > 1,
        "it was retried"
    );
    proxy.shutdown().await;
    assert_eq!(
        census(&moto, &p.name).await["lock"],
        0,
        "released on failure"
    );

    aws.ec2
        .delete_security_group()
        .group_id(foreign)
        .send()
        .await
        .unwrap();
    p.run(&["down", "--yes"]).ok();
    assert_eq!(census(&moto, &p.name).await, empty());
}
