//! The planner on task definitions, services and token generations.

use super::test_support::{converged, facts, stack};
use super::*;
use crate::aws;

#[test]
fn a_new_image_registers_a_revision_and_deploys_the_service() {
    let f = facts();
    let have = converged(&desired::desired(&stack(), &f));
    let mut newer = f.clone();
    newer.images.get_mut("api").unwrap().reference = "repo@sha256:bb".into();
    let plan = plan(&desired::desired(&stack(), &newer), &have);
    let kinds: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.kind, c.action.clone()))
        .collect();
    assert_eq!(plan.changes.len(), 2, "{kinds:?}");
    let Action::Update { fixes } = &plan.changes[0].action else {
        panic!("{kinds:?}")
    };
    assert!(
        matches!(&fixes[0], Fix::TaskDefinition(aws::task_definition::Fix::RegisterRevision { changed }) if changed == &["image"])
    );
    let Action::Update { fixes } = &plan.changes[1].action else {
        panic!("{kinds:?}")
    };
    assert_eq!(
        fixes,
        &[Fix::Service(aws::service::Fix::UpdateService {
            changed: vec!["task definition".into()]
        })],
        "the service is marked for deploy although it runs the family's latest revision"
    );
    let deps = order(&plan, &desired::desired(&stack(), &newer));
    assert_eq!(deps[1], [0], "the deploy waits for the new revision");
}

#[test]
fn an_unknown_image_is_not_a_change_but_settings_are() {
    let f = facts();
    let have = converged(&desired::desired(&stack(), &f));
    let mut unknown = f.clone();
    unknown.images.clear();
    assert!(plan(&desired::desired(&stack(), &unknown), &have).is_empty());
    let mut svc_changed = have.clone();
    for o in &mut svc_changed {
        if let State::Service(s) = &mut o.state {
            s.desired = 9;
            s.circuit_breaker = false;
        }
    }
    let p = plan(&desired::desired(&stack(), &f), &svc_changed);
    assert_eq!(p.changes.len(), 1);
    let Action::Update { fixes } = &p.changes[0].action else {
        panic!()
    };
    let Fix::Service(aws::service::Fix::UpdateService { changed }) = &fixes[0] else {
        panic!()
    };
    assert_eq!(changed, &["desired 9 → 2", "rolling update settings"]);
}

#[test]
fn token_generations_are_ranked_and_stale_ones_deleted() {
    use desired::Generations;
    let g = Generations::of(&[3, 1, 2, 5]).unwrap();
    assert_eq!(
        (g.current, g.previous, g.retired),
        (5, None, None),
        "4 was revoked"
    );
    let g = Generations::of(&[4, 3, 2, 1]).unwrap();
    assert_eq!((g.current, g.previous, g.retired), (4, Some(3), Some(2)));
    assert_eq!(g.key("api", 1).0, "ssm/token-api-old-1");
    let mut f = facts();
    f.tokens.insert("api".into(), g);
    let want = desired::desired(&stack(), &f);
    let Some(Spec::TaskDefinition(aws::task_definition::Spec { def })) = want
        .iter()
        .find(|d| d.key == desired::task_definition("api"))
        .map(|d| &d.spec)
    else {
        panic!()
    };
    let secrets: Vec<_> = def.secrets.iter().collect();
    assert_eq!(secrets.len(), 2);
    assert!(
        secrets[0]
            .1
            .ends_with(":parameter/stackctl/demo/default/api/token/4")
    );
    assert_eq!(secrets[1].0, "API_TOKEN_PREVIOUS");
    assert!(secrets[1].1.ends_with("/api/token/3"));
    assert!(def.environment.values().all(|v| !v.contains("token/")));
}
