//! The example stacks' monthly cost, against sums done by hand from the us-east-1 list prices
//! (src/cost/prices.json) and the default assumptions: 730 hours, 1 LCU, 1 GB of logs per
//! service, 30 images of 10 MB kept per repository.

use std::path::Path;

use super::test_support::{converged, facts};
use super::*;
use crate::config;
use crate::cost::{Assumptions, Prices, estimate};

const H: f64 = 730.0;
/// The load balancer: its hours, 1 LCU, a public IPv4 per zone (2).
const ALB: f64 = H * 0.0225 + H * 0.008 + 2.0 * H * 0.005;
/// One service's logs (1 GB ingested, kept 30 days) and images (30 of 10 MB).
const LOGS_AND_IMAGES: f64 = 0.50 + 0.03 + 30.0 * 10.0 / 1024.0 * 0.10;

/// `n` Fargate tasks of `vcpu` and `gb`, each with a public IPv4.
fn tasks(n: f64, vcpu: f64, gb: f64) -> f64 {
    n * (vcpu * H * 0.04048 + gb * H * 0.004445 + H * 0.005)
}

fn example(file: &str, env: Option<&str>) -> Vec<Desired> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stack = config::load(&root.join(file), env).expect("example stack");
    desired::desired(&stack, &facts())
}

fn total(want: &[Desired]) -> f64 {
    let a = Assumptions::default();
    estimate::estimate(
        "us-east-1",
        &Prices::built_in(),
        cost::after(want, &[], a),
        &a,
    )
    .total
}

#[test]
fn the_example_stacks_cost_what_a_hand_sum_of_their_meters_says() {
    let default = ALB + tasks(2.0, 0.25, 0.5) + LOGS_AND_IMAGES;
    assert_eq!(format!("{default:.2}"), "55.44");
    assert_eq!(total(&example("stack.yaml", None)), 55.44);

    let prod = ALB + tasks(3.0, 0.5, 1.0) + LOGS_AND_IMAGES;
    assert_eq!(format!("{prod:.2}"), "95.13");
    assert_eq!(total(&example("stack.yaml", Some("prod"))), 95.13);

    // web (1 task) and users (2), PostgreSQL on db.t4g.micro with 20 GB and its secret, and
    // the private namespace's hosted zone.
    let database = H * 0.016 + 20.0 * 0.115 + 0.40;
    let two_tier = ALB
        + tasks(1.0, 0.25, 0.5)
        + tasks(2.0, 0.25, 0.5)
        + 2.0 * LOGS_AND_IMAGES
        + database
        + 0.50;
    assert_eq!(format!("{two_tier:.2}"), "83.54");
    assert_eq!(total(&example("examples/two-tier/stack.yaml", None)), 83.54);

    // Multi-AZ doubles the instance and its storage; 3 tasks each.
    let prod = ALB
        + 2.0 * tasks(3.0, 0.25, 0.5)
        + 2.0 * LOGS_AND_IMAGES
        + 2.0 * (H * 0.016 + 20.0 * 0.115)
        + 0.40
        + 0.50;
    assert_eq!(format!("{prod:.2}"), "135.50");
    assert_eq!(
        total(&example("examples/two-tier/stack.yaml", Some("prod"))),
        135.50
    );
}

#[test]
fn what_aws_reports_once_converged_costs_what_the_stack_declares() {
    for (file, env) in [
        ("stack.yaml", None),
        ("examples/two-tier/stack.yaml", Some("prod")),
    ] {
        let want = example(file, env);
        let have = converged(&want);
        let a = Assumptions::default();
        let now = cost::now(&have, a);
        let after = cost::after(&want, &have, a);
        assert_eq!(now, after, "{file}: each kind prices its state as its spec");
        let (now, after) = cost::change("us-east-1", &Prices::built_in(), &want, &have);
        assert!(
            estimate::compare(&now, &after)
                .iter()
                .all(|k| k.now == k.after)
        );
        let text = estimate::render_change(&now, &after, &Prices::built_in());
        assert!(
            text.contains(&format!("({} now, $0.00)", estimate::dollars(now.total))),
            "{text}"
        );
    }
}

#[test]
fn a_new_stack_shows_its_whole_cost_as_the_difference_by_kind() {
    let want = example("stack.yaml", None);
    let (now, after) = cost::change("us-east-1", &Prices::built_in(), &want, &[]);
    assert_eq!(now.total, 0.0);
    let text = estimate::render_change(&now, &after, &Prices::built_in());
    assert!(
        text.starts_with("Cost: about $55.44 a month after this change ($0.00 now, +$55.44)"),
        "{text}"
    );
    assert!(
        text.contains("load balancer") && text.contains("+$29.57"),
        "{text}"
    );
}

#[test]
fn an_autoscaled_service_is_priced_at_the_count_it_runs_not_its_first() {
    let stack = test_support::stack_from(
        "name: demo\nservices:\n  api:\n    build: apps/api\n    port: 8080\n    public: true\n    scaling: { min: 2, max: 6, cpu: 60 }\n",
    );
    let want = desired::desired(&stack, &facts());
    let mut have = converged(&want);
    for o in &mut have {
        if let State::Service(s) = &mut o.state {
            s.desired = 5;
        }
    }
    let (now, after) = cost::change("us-east-1", &Prices::built_in(), &want, &have);
    assert_eq!(now.total, after.total, "the scaler's count is not a change");
    let fargate = |e: &crate::cost::Estimate| {
        e.lines
            .iter()
            .find(|l| l.usage.meter == crate::cost::Meter::FargateVcpuHours)
            .map(|l| l.usage.what.clone())
    };
    assert_eq!(
        fargate(&after).as_deref(),
        Some("5 tasks × 0.25 vCPU × 730 h")
    );
    // Two alarms for the one target tracking policy.
    assert!(
        after
            .lines
            .iter()
            .any(|l| l.usage.meter == crate::cost::Meter::AlarmMonths && l.usage.quantity == 2.0)
    );
}
