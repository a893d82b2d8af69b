use super::*;

#[test]
fn every_action_once_per_scope_and_sids_unique() {
    let mut all: Vec<String> = self::all()
        .iter()
        .map(|(a, scope, _)| format!("{a} {scope:?}"))
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "an action is listed twice for one scope");
    let p = policy(&Target {
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
        stack: "demo",
        env: "default",
        domain: None,
    });
    let parsed: Value = serde_json::from_str(&render(&p)).unwrap();
    assert_eq!(parsed, p, "render is the same document");
    let sids: Vec<&str> = p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    let mut unique = sids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sids.len(), "{sids:?}");
    let text = p.to_string();
    assert!(text.contains("arn:aws:iam::123456789012:role/stackctl/demo/default/*"));
    assert!(text.contains("loadbalancer/app/demo-default/*"));
    // A managed policy's limit is 6,144 characters without whitespace: with the database's
    // actions, and the tag conditions, even the example's policy takes three.
    let parts = documents(&p);
    assert_eq!(parts.len(), 3, "{} characters", text.len());
    assert!(parts.iter().all(|d| size(d) <= MANAGED_POLICY_MAX));
}

#[test]
fn a_policy_over_the_managed_policy_limit_comes_in_parts_iam_accepts() {
    let short = Target {
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
        stack: "demo",
        env: "default",
        domain: None,
    };
    assert_eq!(documents(&policy(&short)).len(), 3);
    let one = json!({ "Version": "2012-10-17", "Statement": [policy(&short)["Statement"][0]] });
    assert_eq!(
        documents(&one),
        std::slice::from_ref(&one),
        "a policy that fits is itself"
    );
    // Names stack.yaml allows (a target group `{stack}-{env}-api` is at most 32 characters).
    let long = Target {
        partition: "aws-us-gov",
        region: "us-gov-west-1",
        account: "123456789012",
        stack: "payments-api",
        env: "production-eu",
        domain: None,
    };
    let whole = policy(&long);
    assert!(size(&whole) > MANAGED_POLICY_MAX);
    let docs = documents(&whole);
    assert!((2..=10).contains(&docs.len()), "{} parts", docs.len());
    let mut actions = Vec::new();
    let mut sids = Vec::new();
    for d in &docs {
        assert!(size(d) <= MANAGED_POLICY_MAX, "{} characters", size(d));
        for st in d["Statement"].as_array().unwrap() {
            sids.push(st["Sid"].as_str().unwrap().to_string());
            match &st["Action"] {
                Value::Array(a) => actions.extend(a.iter().map(|a| a.as_str().unwrap())),
                a => actions.push(a.as_str().unwrap()),
            }
        }
    }
    let whole_statements = whole["Statement"].as_array().unwrap();
    assert_eq!(sids.len(), whole_statements.len(), "every statement once");
    actions.sort_unstable();
    let mut want = super::actions();
    want.sort_unstable();
    assert_eq!(actions, want, "every action once per scope");
}

fn demo() -> Target<'static> {
    Target {
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
        stack: "demo",
        env: "default",
        domain: None,
    }
}

/// (action, resource) of every statement of `doc` that allows it.
fn grants(doc: &Value) -> Vec<(String, String)> {
    let strings = |v: &Value| match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        x => vec![x.as_str().unwrap().to_string()],
    };
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        for a in strings(&st["Action"]) {
            for r in strings(&st["Resource"]) {
                out.push((a.clone(), r));
            }
        }
    }
    out
}

#[test]
fn the_deploy_role_cannot_change_who_may_deploy_nor_tear_the_stack_down() {
    let deploy = grants(&policy_for(&demo(), DEPLOY));
    let has = |action: &str| deploy.iter().any(|(a, _)| a == action);
    // What a deploy does.
    for action in [
        "ecs:UpdateService",
        "ecs:RegisterTaskDefinition",
        "ecr:PutImage",
        "iam:PassRole",
        "iam:PutRolePolicy",
        "ssm:PutParameter",
    ] {
        assert!(has(action), "the deploy role lacks {action}");
    }
    // What only `down` or a change of who deploys does.
    for action in [
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:CreatePolicyVersion",
        "iam:CreatePolicy",
        "iam:DeletePolicy",
        "ec2:DeleteVpc",
        "elasticloadbalancing:DeleteLoadBalancer",
        "rds:DeleteDBInstance",
        "tag:GetResources",
    ] {
        assert!(!has(action), "the deploy role has {action}");
    }
    // No change of any kind on the CI roles, their policies or the provider.
    let ci = ["role/stackctl-ci/", "policy/stackctl-ci/", "oidc-provider/"];
    let reads = ["Get", "List"];
    for (action, resource) in &deploy {
        let verb = action.split(':').nth(1).unwrap();
        if ci.iter().any(|c| resource.contains(c))
            || (resource == "*" && action.starts_with("iam:"))
        {
            assert!(
                reads.iter().any(|r| verb.starts_with(r)),
                "the deploy role may {action} on {resource}"
            );
        }
    }
    // Every statement the stack's own roles get is scoped to them, never to the CI path.
    assert!(
        deploy
            .iter()
            .any(|(a, r)| a == "iam:PutRolePolicy" && r.ends_with(":role/stackctl/demo/default/*"))
    );
    assert!(
        !deploy
            .iter()
            .any(|(_, r)| r.contains("role/stackctl-ci/") && !r.ends_with("/demo/default/*"))
    );
}

#[test]
fn the_plan_role_reads_and_never_a_secret() {
    let plan = grants(&policy_for(&demo(), PLAN));
    assert!(plan.len() > 40, "{} grants", plan.len());
    for (action, resource) in &plan {
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            ["Describe", "List", "Get"]
                .iter()
                .any(|r| verb.starts_with(r)),
            "the plan role may {action} on {resource}"
        );
        assert!(
            ![
                "ssm:GetParameter",
                "ssm:GetParameters",
                "secretsmanager:GetSecretValue",
                "ecr:GetAuthorizationToken",
                "logs:GetLogEvents"
            ]
            .contains(&action.as_str()),
            "the plan role may read a secret or data: {action}"
        );
    }
    // No PassRole, no service-linked role: those come with `up` only.
    assert!(!plan.iter().any(
        |(a, _)| a.starts_with("iam:PassRole") || a.starts_with("iam:CreateServiceLinkedRole")
    ));
}

#[test]
fn the_deploy_role_writes_the_stacks_roles_only_within_their_boundary() {
    let t = demo();
    let deploy = policy_for(&t, DEPLOY);
    let statements = deploy["Statement"].as_array().unwrap();
    let has = |s: &Value, action: &str| match &s["Action"] {
        Value::Array(a) => a.iter().any(|x| x == action),
        one => one == action,
    };
    for action in BOUNDED {
        let holding: Vec<&Value> = statements.iter().filter(|s| has(s, action)).collect();
        assert_eq!(holding.len(), 1, "{action}");
        assert_eq!(
            holding[0]["Condition"]["ArnLike"]["iam:PermissionsBoundary"],
            t.boundary(),
            "{action}"
        );
    }
    assert!(
        !statements
            .iter()
            .any(|s| has(s, "iam:DeleteRolePermissionsBoundary")),
        "lifting the boundary is not a deploy's"
    );
    // The administrator's policy is not bounded.
    let full = policy(&t);
    assert!(!full.to_string().contains("iam:PermissionsBoundary"));
}

/// Writes IAM cannot scope (Service Authorization Reference): no resource type, or `*` only
/// with no condition key to pin the stack by.
const UNSCOPABLE: &[&str] = &[
    // "Actions defined by Amazon ECS": no resource type.
    "ecs:DeregisterTaskDefinition",
    // "Actions defined by Amazon Route 53": `*` only, no tag keys; Cloud Map's private
    // namespace makes its zone with the caller's permission.
    "route53:CreateHostedZone",
    // RDS makes the instance's secret with the caller's permissions, under a name it
    // generates (`rds!db-<uuid>`, RDS User Guide, "Password management with Amazon RDS and
    // AWS Secrets Manager"); the `aws:rds:` tags that tie it to the instance are reserved to
    // AWS, so tagging cannot make another secret the stack's.
    "secretsmanager:CreateSecret",
    "secretsmanager:TagResource",
];

fn is_read(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or(action);
    [
        "Describe",
        "List",
        "Get",
        "BatchGet",
        "BatchCheck",
        "Filter",
    ]
    .iter()
    .any(|p| verb.starts_with(p))
}

#[test]
fn a_ci_deploy_role_writes_only_what_names_or_tags_pin_to_the_stack() {
    let t = Target {
        domain: Some("shop.example.com"),
        ..demo()
    };
    let doc = policy_for(&t, DEPLOY);
    let mut loose = Vec::new();
    for s in doc["Statement"].as_array().unwrap() {
        let resources: Vec<&str> = match &s["Resource"] {
            Value::String(r) => vec![r.as_str()],
            Value::Array(a) => a.iter().map(|r| r.as_str().unwrap()).collect(),
            _ => panic!("{s}"),
        };
        // RDS authorizes each resource a create names: the instance pins it; AWS's default
        // parameter and option groups and DB security groups are read, never written.
        let shared = [
            ":pg:default.postgres*",
            ":og:default:postgres-*",
            ":secgrp:*",
        ];
        let pinned = s.get("Condition").is_some()
            || resources.iter().all(|r| {
                r.contains("demo-default")
                    || r.contains("/demo/default/")
                    || shared.iter().any(|x| r.ends_with(x))
            });
        if pinned {
            continue;
        }
        for a in s["Action"].as_array().unwrap() {
            let a = a.as_str().unwrap();
            if !is_read(a) && !UNSCOPABLE.contains(&a) {
                loose.push(format!("{a} on {resources:?}"));
            }
        }
    }
    assert!(
        loose.is_empty(),
        "writes not pinned to the stack:\n{}",
        loose.join("\n")
    );

    // The domain's records only, and its certificate's validation record.
    let records = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "TheStacksDomainRecords")
        .expect("a statement for the domain's records");
    assert_eq!(
        records["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"],
        json!(["shop.example.com", "_*.shop.example.com"])
    );
    // Without a domain a CI role changes no record; a person's policy still may (`down`
    // after the domain left stack.yaml).
    let text = policy_for(&demo(), DEPLOY).to_string();
    assert!(!text.contains("route53:ChangeResourceRecordSets"), "{text}");
    assert!(
        policy(&demo())
            .to_string()
            .contains("route53:ChangeResourceRecordSets")
    );
    // ec2:CreateTags only within the stack's creates, with its tags.
    let tagging = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == json!(["ec2:CreateTags"]))
        .unwrap();
    assert_eq!(
        tagging["Condition"]["StringEquals"]["aws:RequestTag/stackctl:stack"],
        "demo"
    );
    assert!(tagging["Condition"]["StringEquals"]["ec2:CreateAction"].is_array());
}
