//! Whether an IAM policy allows the calls a run made, on the resources they acted on: IAM's
//! wildcard match, the ARN each call acts on (from its parameters, as a faultproxy journal
//! keeps them), and tag conditions: `aws:ResourceTag` against the tags read from the account
//! (or, where the emulator keeps none, those the call that made it set), `aws:RequestTag`
//! against the tags the call sets.
//! moto evaluates actions only; tests/iam_enforced.rs checks the resources with this.

use std::collections::BTreeMap;

use faultproxy::classify::Call;
use serde_json::Value;
use stackctl::aws::permissions::{self, Scope};

mod rules;

/// The account of the emulator (moto's).
pub const ACCOUNT: &str = "123456789012";

/// IAM's wildcard match: `*` any run of characters, `?` one (as ELB's patterns).
pub use stackctl::config::routes::wildcard as matches;

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

pub type Tags = BTreeMap<String, String>;

/// The last segment of the ARN of what a create makes (its ID is not known before).
pub const NEW: &str = "new";

/// What a request's conditions are evaluated against: the resource's tags, the tags the
/// request puts on what it makes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub resource_tags: Tags,
    pub request_tags: Tags,
    /// `iam:PermissionsBoundary`: the boundary an IAM call sets, else its role's.
    pub boundary: Option<String>,
    /// `iam:AWSServiceName`: the service a service-linked role is made for.
    pub service_name: Option<String>,
}

impl Context {
    fn value(&self, key: &str) -> Option<&str> {
        if let Some(tag) = key.strip_prefix("aws:ResourceTag/") {
            return self.resource_tags.get(tag).map(String::as_str);
        }
        if let Some(tag) = key.strip_prefix("aws:RequestTag/") {
            return self.request_tags.get(tag).map(String::as_str);
        }
        if key == "iam:PermissionsBoundary" {
            return self.boundary.as_deref();
        }
        if key == "iam:AWSServiceName" {
            return self.service_name.as_deref();
        }
        panic!("a condition key this check cannot read: {key}")
    }
}

/// Whether a condition block holds in `cx` (the operators stackctl's policies use).
fn holds(condition: &Value, cx: &Context) -> bool {
    let Some(c) = condition.as_object() else {
        return true;
    };
    c.iter().all(|(op, keys)| {
        keys.as_object().unwrap().iter().all(|(key, want)| {
            let wants = strings(want);
            match op.as_str() {
                "StringEquals" => cx.value(key).is_some_and(|v| wants.contains(&v)),
                "ArnLike" => cx
                    .value(key)
                    .is_some_and(|v| wants.iter().any(|w| matches(w, v))),
                "Null" => (cx.value(key).is_none()) == (wants == ["true"]),
                other => panic!("a condition this check cannot read: {other}"),
            }
        })
    })
}

/// Whether some statement of `policy` allows `action` on `arn` in `cx`.
fn allowed(policy: &Value, action: &str, arn: &str, cx: &Context) -> bool {
    policy["Statement"].as_array().unwrap().iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"]).iter().any(|a| matches(a, action))
            && strings(&s["Resource"]).iter().any(|r| matches(r, arn))
            && holds(&s["Condition"], cx)
    })
}

/// The tags a call puts on what it makes: EC2's `TagSpecification.N.Tag.M`, a JSON
/// `Tags` map (Application Auto Scaling) or list of `Key`/`Value` (ACM, Cloud Map, ECS).
fn tags_of(call: &Call) -> Tags {
    let mut tags = Tags::new();
    for (k, v) in &call.form {
        if let Some(rest) = k.strip_prefix("TagSpecification.1.Tag.")
            && let Some(n) = rest.strip_suffix(".Key")
        {
            let value = call.param(&format!("TagSpecification.1.Tag.{n}.Value"));
            tags.insert(v.clone(), value.unwrap_or_default().into());
        }
    }
    match call
        .json
        .as_ref()
        .and_then(|j| j.get("Tags").or_else(|| j.get("tags")))
    {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                tags.insert(k.clone(), v.as_str().unwrap_or_default().into());
            }
        }
        Some(Value::Array(list)) => {
            for t in list {
                let k = t
                    .get("Key")
                    .or_else(|| t.get("key"))
                    .and_then(Value::as_str);
                let v = t
                    .get("Value")
                    .or_else(|| t.get("value"))
                    .and_then(Value::as_str);
                if let (Some(k), Some(v)) = (k, v) {
                    tags.insert(k.into(), v.into());
                }
            }
        }
        _ => {}
    }
    tags
}

/// EC2's IDs and tags, read as the deployer (every ID `down` will delete).
pub async fn ec2_tags(endpoint: &str, who: &(String, String), into: &mut BTreeMap<String, Tags>) {
    let aws = super::clients_as(endpoint, &who.0, &who.1).await;
    let ec2 = &aws.ec2;
    let tags = |t: &[aws_sdk_ec2::types::Tag]| -> Tags {
        t.iter()
            .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
            .collect()
    };
    for v in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        into.insert(v.vpc_id().unwrap().into(), tags(v.tags()));
    }
    for x in ec2.describe_subnets().send().await.unwrap().subnets() {
        into.insert(x.subnet_id().unwrap().into(), tags(x.tags()));
    }
    for x in ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        into.insert(x.group_id().unwrap().into(), tags(x.tags()));
    }
    for x in ec2
        .describe_route_tables()
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        into.insert(x.route_table_id().unwrap().into(), tags(x.tags()));
        for a in x.associations() {
            if let Some(id) = a.route_table_association_id() {
                into.insert(id.into(), tags(x.tags()));
            }
        }
    }
    for x in ec2
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        into.insert(x.internet_gateway_id().unwrap().into(), tags(x.tags()));
    }
}

pub fn check_scopes(journal: &[Call], policy: &Value, stack: &str, ec2: &BTreeMap<String, Tags>) {
    check_scopes_from(journal, 0, policy, stack, ec2)
}

/// [`check_scopes`] for the calls from `start` on (earlier ones, another principal's, still
/// name the roles' paths).
pub fn check_scopes_from(
    journal: &[Call],
    start: usize,
    policy: &Value,
    stack: &str,
    ec2: &BTreeMap<String, Tags>,
) {
    let roles: BTreeMap<String, String> = journal
        .iter()
        .filter(|c| c.is("iam", "CreateRole"))
        .map(|c| {
            (
                c.param("RoleName").unwrap().into(),
                c.param("Path").unwrap().into(),
            )
        })
        .collect();
    let other = "zz".repeat(stack.len() / 2);
    let (mut checked, mut refused) = (0, Vec::new());
    // Tags a create or a register put on what it made, for what the emulator keeps none of.
    let mut registered: BTreeMap<String, Tags> = BTreeMap::new();
    let mut boundaries: BTreeMap<String, String> = BTreeMap::new();
    for call in journal {
        if call.is("application-autoscaling", "RegisterScalableTarget") {
            let arn = rules::arns(call, &roles).remove(0);
            registered.insert(arn, tags_of(call));
        }
        if let (Some(role), Some(b)) = (call.param("RoleName"), call.param("PermissionsBoundary")) {
            boundaries.insert(role.into(), b.into());
        }
    }
    for call in &journal[start..] {
        let action = format!("{}:{}", call.service.replace("tagging", "tag"), call.action);
        let scopes: Vec<Scope> = permissions::all()
            .into_iter()
            .filter(|(a, _, _)| *a == action)
            .map(|(_, scope, _)| scope)
            .collect();
        if scopes.is_empty() {
            assert!(
                action == "iam:CreateServiceLinkedRole",
                "{action} is called but not in the policy"
            );
            continue;
        }
        if scopes.iter().all(|s| *s == Scope::Any) {
            assert!(
                allowed(policy, &action, "*", &Context::default()),
                "{action} on *"
            );
            continue;
        }
        // The first of these creates in an account makes its service's service-linked role
        // as the caller (scripts/services/moto_enforcing.py).
        let linked = match action.as_str() {
            "elasticloadbalancing:CreateLoadBalancer"
            | "elasticloadbalancing:CreateTargetGroup" => Some((
                "elasticloadbalancing.amazonaws.com",
                "AWSServiceRoleForElasticLoadBalancing",
            )),
            "rds:CreateDBInstance" | "rds:RestoreDBInstanceFromDBSnapshot" => {
                Some(("rds.amazonaws.com", "AWSServiceRoleForRDS"))
            }
            _ => None,
        };
        if let Some((service, role)) = linked {
            checked += 1;
            let arn = format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{role}");
            let cx = Context {
                service_name: Some(service.into()),
                ..Context::default()
            };
            if !allowed(policy, "iam:CreateServiceLinkedRole", &arn, &cx) {
                refused.push(format!(
                    "iam:CreateServiceLinkedRole on {arn} (by {action})"
                ));
            }
        }
        let request_tags = tags_of(call);
        for arn in rules::arns(call, &roles) {
            checked += 1;
            // EC2's resources are the stack's by their tags, the others by their names or
            // the tags they were registered with.
            let id = arn.rsplit('/').next().unwrap();
            let resource_tags = if arn.contains(":ec2:") && id != NEW {
                ec2.get(id)
                    .unwrap_or_else(|| panic!("{id}: tags never read"))
                    .clone()
            } else {
                registered.get(&arn).cloned().unwrap_or_default()
            };
            let boundary = call.param("PermissionsBoundary").or_else(|| {
                let role = call.param("RoleName")?;
                boundaries.get(role).map(String::as_str)
            });
            let cx = Context {
                resource_tags,
                request_tags: request_tags.clone(),
                boundary: boundary.map(str::to_string),
                service_name: None,
            };
            if !allowed(policy, &action, &arn, &cx) {
                refused.push(format!("{action} on {arn} {cx:?}"));
            }
            // GitHub's provider is the account's, one per URL: nothing to scope it by.
            if scopes.contains(&Scope::Arns(
                "GitHubsIdentityProvider",
                permissions::OIDC_PROVIDER,
            )) {
                continue;
            }
            let theirs_tags = |t: &Tags| -> Tags {
                let mut t = t.clone();
                if t.contains_key("stackctl:stack") {
                    t.insert("stackctl:stack".into(), other.clone());
                }
                t
            };
            let theirs = arn.replace(stack, &other);
            let their_cx = Context {
                resource_tags: theirs_tags(&cx.resource_tags),
                request_tags: theirs_tags(&cx.request_tags),
                boundary: cx.boundary.clone(),
                service_name: None,
            };
            assert!(
                theirs != arn || their_cx != cx,
                "{action}: nothing in {arn} {cx:?} names the stack"
            );
            assert!(
                !allowed(policy, &action, &theirs, &their_cx),
                "{action} is allowed on another stack's {theirs} {their_cx:?}"
            );
        }
    }
    eprintln!(
        "[iam] {} calls journaled, {checked} scoped ARNs checked",
        journal.len()
    );
    assert!(checked > 50, "only {checked} scoped calls seen");
    assert!(
        refused.is_empty(),
        "the scoped policy refuses:\n{}",
        refused.join("\n")
    );
}
