use super::*;

#[test]
fn every_action_once_and_sids_unique() {
    let mut all = actions();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "an action is listed twice");
    let p = policy(&Target {
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
        stack: "demo",
        env: "default",
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
    // actions even the example's policy takes two.
    let parts = documents(&p);
    assert_eq!(parts.len(), 2, "{} characters", text.len());
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
    };
    assert_eq!(documents(&policy(&short)).len(), 2);
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
    assert_eq!(actions, want, "every action once");
}
