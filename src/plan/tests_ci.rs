//! The planner with `ci.github`: GitHub's provider, the CI roles and their policies.

use super::test_support::{converged, facts, stack_from};
use super::*;
use crate::aws;

const STACK: &str = "name: demo\nservices:\n  api: { image: example.com/api:1, port: 8080, public: true }\nci:\n  github: { repository: octo-org/shop }\n";

fn spec_of<'a>(want: &'a [Desired], key: &Key) -> &'a Spec {
    &want.iter().find(|d| &d.key == key).expect("desired").spec
}

#[test]
fn ci_adds_the_provider_and_two_roles_that_trust_only_their_subjects() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let Spec::Role(deploy) = spec_of(&want, &desired::ci_role("deploy")) else {
        panic!("a role")
    };
    let trust: serde_json::Value = serde_json::from_str(&deploy.trust_policy).unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"],
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    );
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let equals = &statement["Condition"]["StringEquals"];
    assert_eq!(
        equals["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        equals["token.actions.githubusercontent.com:sub"],
        "repo:octo-org/shop:ref:refs/heads/main"
    );
    assert_eq!(deploy.path, "/stackctl-ci/demo/default/");
    assert!(deploy.inline.is_empty());
    // Its permissions: `stackctl policy --role deploy`, in parts, each attached.
    assert!(!deploy.managed.is_empty());
    for (i, arn) in deploy.managed.iter().enumerate() {
        let key = desired::ci_policy("deploy", i + 1);
        assert_eq!(
            arn,
            &format!(
                "arn:aws:iam::123456789012:policy/stackctl-ci/demo/default/demo-default-ci-deploy-{}",
                i + 1
            )
        );
        assert!(matches!(spec_of(&want, &key), Spec::Policy(_)));
        assert!(deploy.after.contains(&key));
    }
    assert!(deploy.after.contains(&desired::oidc_provider()));
    let Spec::Role(plan_role) = spec_of(&want, &desired::ci_role("plan")) else {
        panic!("a role")
    };
    assert!(
        plan_role
            .trust_policy
            .contains("repo:octo-org/shop:pull_request")
    );
    // Nothing of it without `ci:`.
    let without = desired::desired(
        &stack_from(&STACK.replace("ci:\n  github: { repository: octo-org/shop }\n", "")),
        &facts(),
    );
    assert!(
        !without
            .iter()
            .any(|d| matches!(d.spec.kind(), Kind::OidcProvider | Kind::Policy))
    );
    // The provider, the two roles, their policies and the boundary.
    assert_eq!(
        want.len() - without.len(),
        2 + 1 + deploy.managed.len() + plan_role.managed.len() + 1
    );
}

#[test]
fn converged_ci_plans_nothing_and_a_new_branch_only_resets_the_trust() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let have = converged(&want);
    assert!(plan(&want, &have).is_empty());
    let moved = desired::desired(
        &stack_from(&STACK.replace(
            "repository: octo-org/shop",
            "repository: octo-org/shop, branch: release",
        )),
        &facts(),
    );
    let p = plan(&moved, &have);
    assert_eq!(p.changes.len(), 1, "{:?}", p.changes);
    assert_eq!(p.changes[0].key, desired::ci_role("deploy"));
    assert!(matches!(
        &p.changes[0].action,
        Action::Update { fixes } if matches!(fixes[..], [Fix::Role(aws::iam::Fix::UpdateTrustPolicy { .. })])
    ));
}

#[test]
fn a_changed_permission_is_a_new_policy_version() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let mut have = converged(&want);
    let key = desired::ci_policy("plan", 1);
    let o = have.iter_mut().find(|o| o.key == key).unwrap();
    let State::Policy(s) = &mut o.state else {
        panic!()
    };
    s.document = s
        .document
        .replace("ecs:ListServices", "ecs:ListServicesByNamespace");
    let p = plan(&want, &have);
    assert_eq!(p.changes.len(), 1);
    assert!(matches!(
        &p.changes[0].action,
        Action::Update { fixes } if matches!(fixes[..], [Fix::Policy(aws::policy::Fix::NewVersion { .. })])
    ));
}

#[test]
fn roles_are_made_after_their_policies_and_provider_and_deleted_before_them() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let up = plan(&want, &[]);
    let deps = order(&up, &want);
    let pos = |p: &Plan, k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    let role = pos(&up, &desired::ci_role("deploy"));
    assert!(deps[role].contains(&pos(&up, &desired::ci_policy("deploy", 1))));
    assert!(deps[role].contains(&pos(&up, &desired::oidc_provider())));

    let have = converged(&want);
    let down = plan(&[], &have);
    let deps = order(&down, &[]);
    for k in [desired::ci_policy("deploy", 1), desired::oidc_provider()] {
        assert!(
            deps[pos(&down, &k)].contains(&pos(&down, &desired::ci_role("deploy"))),
            "{k} waits for the role"
        );
    }
}

#[test]
fn a_provider_something_else_trusts_is_never_the_stacks_to_delete() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let mut have = converged(&want);
    let o = have
        .iter_mut()
        .find(|o| o.key == desired::oidc_provider())
        .unwrap();
    let State::OidcProvider(s) = &mut o.state else {
        panic!()
    };
    s.kept = Some("trusted by 1 other role (deployer)".into());
    let down = plan(&[], &have);
    assert!(
        !down
            .changes
            .iter()
            .any(|c| c.key == desired::oidc_provider())
    );
    assert!(
        down.changes
            .iter()
            .any(|c| c.key == desired::ci_role("deploy"))
    );
    // One that lacks the audience gets it added, nothing removed (someone else's stay).
    s_reset(&mut have);
    let p = plan(&want, &have);
    assert!(matches!(
        &p.changes[..],
        [Change { action: Action::Update { fixes }, .. }] if matches!(fixes[..], [Fix::OidcProvider(aws::oidc_provider::Fix::AddAudience { .. })])
    ));
}

fn s_reset(have: &mut [Observed]) {
    let o = have
        .iter_mut()
        .find(|o| o.key == desired::oidc_provider())
        .unwrap();
    let State::OidcProvider(s) = &mut o.state else {
        panic!()
    };
    s.client_ids = vec!["sigstore".into()];
}

#[test]
fn the_stacks_own_roles_are_bounded_and_the_boundary_covers_what_they_hold() {
    use crate::config::routes::wildcard;
    let boundary_arn =
        "arn:aws:iam::123456789012:policy/stackctl-ci/demo/default/demo-default-ci-boundary";
    let want = desired::desired(&stack_from(STACK), &facts());
    let Spec::Policy(b) = spec_of(&want, &desired::ci_boundary()) else {
        panic!("a policy")
    };
    let doc: serde_json::Value = serde_json::from_str(&b.document).unwrap();
    let strings = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_string()).collect()
            }
            x => vec![x.as_str().unwrap().to_string()],
        }
    };
    let allows = |action: &str, resource: &str| {
        doc["Statement"].as_array().unwrap().iter().any(|st| {
            strings(&st["Action"]).iter().any(|a| wildcard(a, action))
                && strings(&st["Resource"])
                    .iter()
                    .any(|r| wildcard(r, resource))
        })
    };
    // AWS's AmazonECSTaskExecutionRolePolicy (on `*`), for the stack's images and logs.
    for action in [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
    ] {
        assert!(
            allows(
                action,
                "arn:aws:ecr:us-east-1:123456789012:repository/demo-default/api"
            ),
            "{action}"
        );
    }
    let stream = "arn:aws:logs:us-east-1:123456789012:log-group:/stackctl/demo/default/api:log-stream:ecs/api/1";
    assert!(allows("logs:PutLogEvents", stream));
    assert!(!allows(
        "logs:PutLogEvents",
        &stream.replace("/demo/", "/other/")
    ));
    let mut roles = 0;
    for d in &want {
        let Spec::Role(r) = &d.spec else { continue };
        if r.path.starts_with("/stackctl-ci/") {
            assert_eq!(
                r.boundary, None,
                "{}: the CI roles are not the deploy role's to write",
                d.key
            );
            continue;
        }
        roles += 1;
        assert_eq!(r.boundary.as_deref(), Some(boundary_arn), "{}", d.key);
        assert!(r.after.contains(&desired::ci_boundary()));
        // Every statement the role holds inline is inside the boundary.
        for (_, inline) in &r.inline {
            let p: serde_json::Value = serde_json::from_str(inline).unwrap();
            for st in p["Statement"].as_array().unwrap() {
                for a in strings(&st["Action"]) {
                    for res in strings(&st["Resource"]) {
                        assert!(
                            allows(&a, &res),
                            "{}: {a} on {res} is outside the boundary",
                            d.key
                        );
                    }
                }
            }
        }
    }
    assert_eq!(roles, 2, "the execution role and the task role");
    assert!(!allows("iam:CreateUser", "*"), "nothing of IAM");
    // Without `ci:`, no boundary.
    let without = desired::desired(
        &stack_from(&STACK.replace("ci:\n  github: { repository: octo-org/shop }\n", "")),
        &facts(),
    );
    assert!(
        without
            .iter()
            .all(|d| !matches!(&d.spec, Spec::Role(r) if r.boundary.is_some()))
    );
}

#[test]
fn a_ci_deploy_role_is_refused_only_what_changes_who_may_deploy() {
    let want = desired::desired(&stack_from(STACK), &facts());
    let have = converged(&want);
    assert!(needs_administrator(&plan(&want, &have)).is_empty());
    // Another service is the deploy role's to add.
    let more = STACK.replace(
        "services:\n",
        "services:\n  web: { image: example.com/web:1, port: 8081, public: { paths: [/web] } }\n",
    );
    let p = plan(&desired::desired(&stack_from(&more), &facts()), &have);
    assert!(!p.is_empty());
    assert!(needs_administrator(&p).is_empty(), "{:?}", p.changes);
    // A new branch changes a CI role's trust: an administrator's change.
    let branch = STACK.replace("octo-org/shop }", "octo-org/shop, branch: release }");
    let p = plan(&desired::desired(&stack_from(&branch), &facts()), &have);
    let refused: Vec<&Key> = needs_administrator(&p).iter().map(|c| &c.key).collect();
    assert_eq!(refused, [&desired::ci_role("deploy")]);
    // A stack role's trust reset.
    let mut drifted = have.clone();
    let exec = drifted
        .iter_mut()
        .find(|o| o.key.0.starts_with("role/") && o.key != desired::ci_role("deploy"))
        .unwrap();
    let State::Role(r) = &mut exec.state else {
        panic!()
    };
    r.trust_policy = "{}".into();
    let p = plan(&want, &drifted);
    assert_eq!(needs_administrator(&p).len(), 1, "{:?}", p.changes);
}
