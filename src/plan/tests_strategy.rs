//! The planner with `deploy:` blue-green, canary or linear: the second target group, the
//! infrastructure role, the listener forwarding to both; a plan that leaves ECS's weights and
//! its alternation alone; a switch of strategy explained; a switch back that keeps the
//! requests on the group serving them.

use std::path::Path;

use super::test_support::{converged, facts, id_for};
use super::*;
use crate::aws;
use crate::config;

fn stack_with(deploy: &str) -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("stack.yaml")).unwrap();
    let base = base.split("\nenvironments:").next().unwrap();
    let text = format!("{base}\n    deploy: {deploy}\n");
    config::parse(Path::new("stack.yaml"), &text, root, None).expect("stack with deploy")
}

fn spec<'a>(want: &'a [Desired], key: &Key) -> &'a Spec {
    &want.iter().find(|d| &d.key == key).expect("desired").spec
}

fn service_spec(want: &[Desired]) -> &ServiceSpec {
    let Spec::Service(s) = spec(want, &desired::service("api")) else {
        unreachable!()
    };
    s
}

fn fixes(plan: &Plan) -> Vec<(String, String)> {
    plan.changes
        .iter()
        .map(|c| {
            let what = match &c.action {
                Action::Update { fixes } => fixes
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => format!("{other:?}").chars().take(6).collect(),
            };
            (c.key.0.clone(), what)
        })
        .collect()
}

/// ECS moved production to the alternate group (after a deployment): the listener's weights
/// say so, and the facts read them.
fn swapped(have: &mut [Observed]) -> Facts {
    let (p, a) = (
        id_for(&desired::target_group("api")),
        id_for(&desired::alternate_target_group("api")),
    );
    for o in have.iter_mut() {
        if let State::Listener(l) = &mut o.state {
            l.forwards = vec![(p.clone(), 0), (a.clone(), 100)];
            l.target_group = Some(a.clone());
        }
    }
    let mut f = facts();
    f.live = live_groups(have);
    f
}

#[test]
fn blue_green_adds_a_second_group_the_role_and_a_rule_to_both() {
    let want = desired::desired(&stack_with("blue-green"), &facts());
    let s = service_spec(&want);
    assert_eq!(s.deploy, config::Deploy::BlueGreen { bake_minutes: 5 });
    assert_eq!(
        s.alternate,
        Some(desired::alternate_target_group("api")),
        "the second group"
    );
    assert_eq!(
        s.infrastructure_role,
        Some((
            desired::infrastructure_role(),
            "arn:aws:iam::123456789012:role/stackctl/demo/default/demo-default-ecs-infra".into()
        ))
    );
    let Spec::Listener(l) = spec(&want, &desired::listener()) else {
        unreachable!()
    };
    assert_eq!(
        l.action,
        aws::listener::Forwarding::Forward {
            target_group: desired::target_group("api"),
            alternate: Some(desired::alternate_target_group("api")),
        }
    );
    let Spec::Role(r) = spec(&want, &desired::infrastructure_role()) else {
        unreachable!()
    };
    assert!(r.trust_policy.contains("\"ecs.amazonaws.com\""));
    assert_eq!(
        r.managed,
        ["arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"]
    );
    let names: Vec<&str> = want.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains(&"demo-default-api-alt") && names.contains(&"demo-default-ecs-infra"));
    assert!(plan(&want, &converged(&want)).is_empty(), "converged");
}

#[test]
fn ecs_moving_the_weights_and_swapping_the_groups_is_no_change() {
    let stack = stack_with("{ strategy: canary, percent: 10, wait_minutes: 3 }");
    let want = desired::desired(&stack, &facts());
    let mut have = converged(&want);
    let f = swapped(&mut have);
    assert_eq!(
        f.live.get("api"),
        Some(&desired::alternate_target_group("api"))
    );
    let want = desired::desired(&stack, &f);
    // The group serving now is the one new tasks and a rewrite would keep.
    let s = service_spec(&want);
    assert_eq!(
        s.target_group.as_ref().map(|t| &t.0),
        Some(&desired::alternate_target_group("api"))
    );
    // ECS reports the pair either way round.
    for o in have.iter_mut() {
        if let State::Service(s) = &mut o.state {
            let (a, rule, role) = s.advanced.clone().unwrap();
            s.advanced = Some((s.target_group.clone().unwrap(), rule, role));
            s.target_group = Some(a);
        }
    }
    assert_eq!(fixes(&plan(&want, &have)), [], "nothing fights ECS");
}

#[test]
fn switching_to_blue_green_is_a_planned_change_that_says_what_it_does() {
    let rolling = desired::desired(&stack_with("rolling"), &facts());
    let have = converged(&rolling);
    let want = desired::desired(&stack_with("blue-green"), &facts());
    let changes = fixes(&plan(&want, &have));
    let service = changes
        .iter()
        .find(|c| c.0 == desired::service("api").0)
        .unwrap();
    assert!(
        service.1.contains(
            "deploy strategy rolling → blue-green (the next version starts beside the running one"
        ),
        "{service:?}"
    );
    assert!(service.1.contains("load balancer"), "{service:?}");
    let listener = changes
        .iter()
        .find(|c| c.0 == desired::listener().0)
        .unwrap();
    let alternate = desired::alternate_target_group("api");
    assert!(
        listener.1.contains(&format!("and {alternate}")),
        "{listener:?}"
    );
    let created: Vec<&str> = changes
        .iter()
        .filter(|c| c.1 == "Create")
        .map(|c| c.0.as_str())
        .collect();
    let (role, alt) = (desired::infrastructure_role(), alternate);
    assert_eq!(created, [role.0.as_str(), alt.0.as_str()]);
}

#[test]
fn switching_back_to_rolling_keeps_the_group_that_serves() {
    let stack = stack_with("blue-green");
    let want = desired::desired(&stack, &facts());
    let mut have = converged(&want);
    let f = swapped(&mut have);
    let want = desired::desired(&stack_with("rolling"), &f);
    let s = service_spec(&want);
    assert_eq!(s.deploy, config::Deploy::Rolling);
    assert_eq!(
        s.target_group.as_ref().map(|t| &t.0),
        Some(&desired::alternate_target_group("api")),
        "rolling goes on in the group production is on"
    );
    let changes = fixes(&plan(&want, &have));
    let keys: Vec<&str> = changes.iter().map(|c| c.0.as_str()).collect();
    // The role goes once the service no longer names it.
    let (role, service) = (desired::infrastructure_role(), desired::service("api"));
    assert_eq!(keys, [service.0.as_str(), role.0.as_str()], "{changes:?}");
    assert!(
        changes[0]
            .1
            .contains("deploy strategy blue-green → rolling")
    );
}

#[test]
fn a_new_canary_step_is_a_change_in_place() {
    let want = desired::desired(&stack_with("canary"), &facts());
    let have = converged(&want);
    let want = desired::desired(
        &stack_with("{ strategy: canary, percent: 20, wait_minutes: 2, bake_minutes: 1 }"),
        &facts(),
    );
    let changes = fixes(&plan(&want, &have));
    assert_eq!(
        changes,
        [(
            desired::service("api").0,
            "deploy (bake time 5 → 1 min, canary 20% every 2 min)".to_string()
        )]
    );
}

#[test]
fn a_routed_service_shifts_on_its_own_rule_and_ecs_moving_it_is_no_change() {
    let text = "name: demo
services:
  web: { image: web:1, port: 8000, public: true }
  users: { image: users:1, port: 8080, public: { paths: [/users/*] }, deploy: canary }
";
    let stack = config::parse(Path::new("stack.yaml"), text, Path::new("."), None).unwrap();
    let want = desired::desired(&stack, &facts());
    let routes = desired::routes_on(&desired::listener());
    let Spec::Routes(r) = spec(&want, &routes) else {
        unreachable!()
    };
    let alternate = desired::alternate_target_group("users");
    assert_eq!(r.rules[0].alternate.as_ref(), Some(&alternate));
    // The default service deploys rolling: one group, forwarded to alone.
    let Spec::Listener(l) = spec(&want, &desired::listener()) else {
        unreachable!()
    };
    assert!(matches!(
        &l.action,
        aws::listener::Forwarding::Forward {
            alternate: None,
            ..
        }
    ));
    let mut have = converged(&want);
    assert!(plan(&want, &have).is_empty(), "converged");
    // ECS moved the rule's weights to the second group.
    let (p, a) = (id_for(&desired::target_group("users")), id_for(&alternate));
    for o in have.iter_mut() {
        if let State::Routes(s) = &mut o.state {
            s.rules[0].forwards = vec![(p.clone(), 0), (a.clone(), 100)];
        }
    }
    let mut f = facts();
    f.live = live_groups(&have);
    assert_eq!(f.live.get("users"), Some(&alternate));
    let want = desired::desired(&stack, &f);
    assert_eq!(
        fixes(&plan(&want, &have)),
        [],
        "the rule and the service are left alone"
    );
}
