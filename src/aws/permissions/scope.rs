//! What an action may act on, and the statement that says so. Where IAM cannot pin a resource
//! to the stack by name (generated IDs), the stack's tags do: `aws:ResourceTag` on what
//! exists, `aws:RequestTag` on what a create makes (IAM User Guide, "Controlling access to
//! AWS resources using tags").

use serde_json::{Value, json};

use super::Target;
use crate::names::{TAG_ENV, TAG_STACK};

/// What an action may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Any,
    /// A statement's Sid and its ARN templates: `{partition}`, `{region}`, `{account}`,
    /// `{stack}`, `{env}`.
    Arns(&'static str, &'static [&'static str]),
    /// EC2 resources (generated IDs, no names to scope by) of these types carrying the stack's
    /// `stackctl:stack` and `stackctl:env` tags (`aws:ResourceTag`), which every create puts
    /// on them in the same call (TagSpecifications).
    Tagged(&'static str, &'static [&'static str]),
    /// These ARN templates, on resources carrying the stack's tags (`aws:ResourceTag`).
    TaggedArns(&'static str, &'static [&'static str]),
    /// Creates: the request tags what it makes as the stack's (`aws:RequestTag`), and what it
    /// acts on carries no stack's tag yet (`Null` `aws:ResourceTag`): a new resource, never
    /// another stack's (a subnet in another stack's VPC is refused by its VPC's tags).
    New(&'static str, &'static [&'static str]),
    /// `ec2:CreateTags` only within these creates (`ec2:CreateAction`), with the stack's tags:
    /// never on what exists (Amazon EC2 User Guide, "Grant permission to tag Amazon EC2
    /// resources during creation").
    TagOnCreate(&'static str, &'static [&'static str]),
    /// Route 53 records of the stack's domain and of its certificate's validation
    /// (`route53:ChangeResourceRecordSetsNormalizedRecordNames`, Route 53 Developer Guide,
    /// "Using IAM policy conditions for fine-grained access control"). Hosted zones carry no
    /// tag condition; without a domain, CI roles get none of these and a person's policy has
    /// them on every zone.
    Records(&'static str),
}

/// The stack's tags as the values of `key` (`aws:ResourceTag` or `aws:RequestTag`).
fn stack_tags(key: &str, t: &Target<'_>) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(format!("{key}/{TAG_STACK}"), json!(t.stack));
    m.insert(format!("{key}/{TAG_ENV}"), json!(t.env));
    m
}

/// The EC2 ARNs of `types`.
fn ec2(types: &[&str], fill: &dyn Fn(&str) -> String) -> Vec<String> {
    types
        .iter()
        .map(|t| {
            fill(&format!(
                "arn:{{partition}}:ec2:{{region}}:{{account}}:{t}/*"
            ))
        })
        .collect()
}

/// The statement allowing `actions` within `scope`; None when the target leaves nothing to
/// allow (records without a domain, for CI roles).
pub(super) fn statement(
    scope: Scope,
    actions: &[&str],
    t: &Target<'_>,
    person: bool,
    fill: &dyn Fn(&str) -> String,
) -> Option<Value> {
    let arns = |templates: &[&str]| templates.iter().map(|a| fill(a)).collect::<Vec<_>>();
    let (sid, resource, condition): (&str, Value, Option<Value>) = match scope {
        Scope::Any => ("AnyResource", json!("*"), None),
        Scope::Arns(sid, templates) => (sid, json!(arns(templates)), None),
        Scope::Tagged(sid, types) => (
            sid,
            json!(ec2(types, fill)),
            Some(json!({ "StringEquals": stack_tags("aws:ResourceTag", t) })),
        ),
        Scope::TaggedArns(sid, templates) => (
            sid,
            json!(arns(templates)),
            Some(json!({ "StringEquals": stack_tags("aws:ResourceTag", t) })),
        ),
        Scope::New(sid, templates) => (
            sid,
            json!(arns(templates)),
            Some(json!({
                "StringEquals": stack_tags("aws:RequestTag", t),
                "Null": { format!("aws:ResourceTag/{TAG_STACK}"): "true" },
            })),
        ),
        Scope::TagOnCreate(sid, creates) => {
            let mut equals = stack_tags("aws:RequestTag", t);
            equals.insert("ec2:CreateAction".into(), json!(creates));
            (
                sid,
                json!(ec2(super::NETWORK, fill)),
                Some(json!({ "StringEquals": equals })),
            )
        }
        Scope::Records(sid) => {
            let zones = json!([fill("arn:{partition}:route53:::hostedzone/*")]);
            match t.domain {
                // ACM's validation record is `_<token>.<domain>`.
                Some(d) => (
                    sid,
                    zones,
                    Some(json!({ "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames":
                            [d.to_string(), format!("_*.{d}")]
                    }})),
                ),
                None if person => (sid, zones, None),
                None => return None,
            }
        }
    };
    let mut s = json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource });
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    Some(s)
}
