//! The planner with `scaling:`: the scalable target and its policies, a running count the
//! scaler chose left alone, changes to bounds and targets in place, and `down`'s order.

use std::path::Path;

use super::test_support::{converged, facts};
use super::*;
use crate::aws::scaling::{self, Metric};
use crate::config;

fn stack_with(scaling: &str) -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("stack.yaml")).unwrap();
    let base = base.split("\nenvironments:").next().unwrap();
    let text = format!("{base}\n    scaling: {scaling}\n");
    config::parse(Path::new("stack.yaml"), &text, root, None).expect("stack with scaling")
}

fn scaling_spec(want: &[Desired]) -> &scaling::Spec {
    let d = want
        .iter()
        .find(|d| d.key == desired::scaling("api"))
        .unwrap();
    let Spec::Scaling(s) = &d.spec else {
        unreachable!()
    };
    s
}

fn service_state(have: &mut [Observed]) -> &mut ServiceState {
    let o = have
        .iter_mut()
        .find(|o| o.key == desired::service("api"))
        .unwrap();
    let State::Service(s) = &mut o.state else {
        unreachable!()
    };
    s
}

#[test]
fn scaling_adds_a_target_with_its_policies_and_the_account_role_and_converges() {
    let want = desired::desired(
        &stack_with("{ min: 2, max: 10, cpu: 60, requests: 1000 }"),
        &facts(),
    );
    let s = scaling_spec(&want);
    assert_eq!(s.resource_id, "service/demo-default/demo-default-api");
    assert_eq!((s.min, s.max), (2, 10));
    let metrics: Vec<_> = s.policies.iter().map(|p| (&p.name[..], p.target)).collect();
    assert_eq!(
        metrics,
        [
            ("demo-default-api-cpu", 60),
            ("demo-default-api-requests", 1000)
        ]
    );
    assert!(matches!(s.policies[1].metric, Metric::Requests { .. }));
    let keys: Vec<&str> = want.iter().map(|d| d.key.0.as_str()).collect();
    assert!(keys.contains(&"slr/ecs-scaling"), "{keys:?}");
    let fresh = plan(&want, &[]);
    let deps = order(&fresh, &want);
    let pos = |k: &Key| fresh.changes.iter().position(|c| &c.key == k).unwrap();
    let at = pos(&desired::scaling("api"));
    for k in [
        desired::service("api"),
        desired::scaling_service_linked_role(),
        desired::target_group("api"),
        desired::load_balancer(),
    ] {
        assert!(deps[at].contains(&pos(&k)), "scaling waits for {k}");
    }
    assert!(plan(&want, &converged(&want)).is_empty());
    // Without scaling, neither the target nor the role is wanted.
    let plain = desired::desired(&super::test_support::stack(), &facts());
    assert!(plain.iter().all(|d| d.spec.kind() != Kind::Scaling));
    assert!(
        plain
            .iter()
            .all(|d| d.key != desired::scaling_service_linked_role())
    );
}

#[test]
fn the_count_the_scaler_chose_is_left_alone_and_only_then() {
    let want = desired::desired(&stack_with("{ min: 2, max: 10, cpu: 60 }"), &facts());
    let mut have = converged(&want);
    let s = service_state(&mut have);
    s.desired = 7;
    s.running = 7;
    assert!(
        plan(&want, &have).is_empty(),
        "the scaler's 7 tasks are not reset to 2"
    );
    // A new task definition deploys without touching the count.
    let mut have_old_image = have.clone();
    for o in &mut have_old_image {
        if o.key == desired::task_definition("api") {
            o.id = "id-taskdef-api-old".into();
        }
    }
    let p = plan(&want, &have_old_image);
    let text = render_text(&p);
    assert!(!text.contains("desired"), "{text}");
    // Without scaling, stack.yaml's count wins.
    let plain = desired::desired(&super::test_support::stack(), &facts());
    let mut have = converged(&plain);
    service_state(&mut have).desired = 7;
    let text = render_text(&plan(&plain, &have));
    assert!(text.contains("desired 7 → 2"), "{text}");
}

#[test]
fn bounds_and_targets_change_in_place_and_a_dropped_target_is_deleted() {
    let before = desired::desired(
        &stack_with("{ min: 2, max: 10, cpu: 60, requests: 1000 }"),
        &facts(),
    );
    let have = converged(&before);
    let after = desired::desired(&stack_with("{ min: 2, max: 12, cpu: 50 }"), &facts());
    let p = plan(&after, &have);
    assert_eq!(p.changes.len(), 1, "{}", render_text(&p));
    let Action::Update { fixes } = &p.changes[0].action else {
        panic!("{:?}", p.changes[0])
    };
    let fixes: Vec<String> = fixes.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        fixes,
        [
            "scale between 2 and 12 tasks",
            "target 50 % CPU",
            "delete policy demo-default-api-requests"
        ]
    );
    // Cooldowns someone changed by hand are put back.
    let mut have = converged(&after);
    for o in &mut have {
        if let State::Scaling(s) = &mut o.state {
            s.policies[0].scale_in_cooldown = Some(0);
        }
    }
    assert_eq!(plan(&after, &have).changes.len(), 1);
    // A requests policy follows its load balancer's and target group's ids.
    let mut have = converged(&before);
    for o in &mut have {
        if o.key == desired::target_group("api") {
            o.id = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/demo-default-api/2".into();
        }
        if o.key == desired::load_balancer() {
            o.id =
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/demo-default/1".into();
        }
    }
    let p = plan(&before, &have);
    let c = p.changes.iter().find(|c| c.key == desired::scaling("api"));
    assert!(
        matches!(c, Some(Change { action: Action::Update { fixes }, .. }) if fixes.len() == 1),
        "{}",
        render_text(&p)
    );
}

#[test]
fn down_deletes_the_scaling_before_the_service() {
    let want = desired::desired(&stack_with("{ min: 1, max: 4, cpu: 70 }"), &facts());
    let have = converged(&want);
    let p = plan(&[], &have);
    let deps = order(&p, &[]);
    let pos = |k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    assert!(deps[pos(&desired::service("api"))].contains(&pos(&desired::scaling("api"))));
    assert!(deps[pos(&desired::scaling("api"))].is_empty());
    assert!(
        p.changes
            .iter()
            .all(|c| c.key != desired::scaling_service_linked_role()),
        "the account's role stays"
    );
}

#[test]
fn the_requests_label_is_built_from_the_arns() {
    assert_eq!(
        scaling::resource_label(
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/demo-default/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/demo-default-api/73e2d6bc24d8a067",
        )
        .as_deref(),
        Some("app/demo-default/50dc6c495c0c9188/targetgroup/demo-default-api/73e2d6bc24d8a067")
    );
    assert_eq!(scaling::resource_label("lb", "tg"), None);
}
