//! The stack's private DNS namespace in AWS Cloud Map (`<stack>-<env>.internal`, a Route 53
//! private hosted zone on the stack's VPC), where the services others call are registered.
//! Made only when a service `calls:` another. Creating and deleting a namespace are
//! asynchronous operations, followed to the end with GetOperation (Cloud Map API Reference,
//! "CreatePrivateDnsNamespace", "GetOperation"); deleting one that still has services is
//! refused with ResourceInUse, so its services go first.

use std::time::Duration;

use aws_sdk_servicediscovery::types::{
    NamespaceFilter, NamespaceFilterName, NamespaceSummary, NamespaceType, OperationStatus,
    OperationTargetType,
};
use aws_sdk_servicediscovery::operation::create_private_dns_namespace::CreatePrivateDnsNamespaceError;
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{ANY_NEW, Cmd, NAMESPACES, Permission, Scope};
use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};
use crate::cost;

/// A private DNS namespace on the stack's VPC.
pub struct Namespace;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub vpc: Key,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub hosted_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Fix {}

impl std::fmt::Display for Fix {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// How long a namespace operation may take: Cloud Map makes or deletes a hosted zone, which
/// takes up to a few minutes.
const OPERATION: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(10),
    deadline: Duration::from_secs(10 * 60),
};

impl Resource for Namespace {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    // Cloud Map names namespaces by generated IDs, so its actions cannot be scoped by the
    // stack's names; creating one also makes the hosted zone on the VPC, which needs
    // route53:GetHostedZone, route53:ListHostedZonesByName and ec2:DescribeVpcs too (listed by
    // other kinds) (Cloud Map Developer Guide, "Cloud Map API permissions reference").
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("servicediscovery:ListNamespaces", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("servicediscovery:ListTagsForResource", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("servicediscovery:GetOperation", Scope::Any, &[Up, Down]),
            ("servicediscovery:CreatePrivateDnsNamespace", Scope::New("CreatingTheStacksDiscovery", ANY_NEW), &[Up]),
            // Tags on create. Cloud Map's TagResource takes `*` only: a resource stackctl did
            // not make, carrying no stack's tag, could be tagged as the stack's.
            ("servicediscovery:TagResource", Scope::New("CreatingTheStacksDiscovery", ANY_NEW), &[Up]),
            ("servicediscovery:DeleteNamespace", Scope::TaggedArns("TheStacksDiscovery", NAMESPACES), &[Down]),
            ("route53:CreateHostedZone", Scope::Any, &[Up]),
            ("route53:DeleteHostedZone", Scope::Any, &[Down]),
            ("ec2:DescribeRegions", Scope::Any, &[Up]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.vpc.clone()]
    }

    /// Its hosted zone is associated with the VPC.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Vpc
    }

    fn diff(_: &Spec, _: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        Ok(vec![])
    }

    fn usage(_: &Key, _: &Spec, _: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        zone()
    }

    fn usage_now(_: &Key, _: &State, _: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        zone()
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({ "type": "DNS_PRIVATE" })
    }

    #[cfg(test)]
    fn converged(_: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            hosted_zone: Some("Z0NAMESPACE".into()),
        }
    }

    /// With the discovery services in it.
    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let Some(ns) = find(aws, names).await? else {
            return Ok(vec![]);
        };
        let services = super::discovery::find(aws, names, &ns.id).await?;
        Ok([vec![ns], services].concat())
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let vpc = cx.id(&spec.vpc)?;
        let tags = super::tags(cx.names, &key.0, name)?;
        let out = cx
            .aws
            .discovery
            .create_private_dns_namespace()
            .name(name)
            .vpc(&vpc)
            .description(format!(
                "stackctl {}/{}: private names of the services",
                cx.names.stack, cx.names.env
            ))
            .set_tags(Some(tags))
            .send()
            .await;
        let operation = match out {
            Ok(o) => o.operation_id().unwrap_or_default().to_string(),
            Err(e) => {
                let (exists, duplicate) = match e.as_service_error() {
                    Some(CreatePrivateDnsNamespaceError::NamespaceAlreadyExists(_)) => (true, None),
                    Some(CreatePrivateDnsNamespaceError::DuplicateRequest(d)) => {
                        (false, d.duplicate_operation_id().map(str::to_string))
                    }
                    _ => (false, None),
                };
                if let Some(op) = duplicate {
                    // Our own lost attempt, still running: follow it.
                    follow(cx.aws, &op, name).await?;
                } else if !exists {
                    return Err(e).ctx("create namespace", name);
                }
                // Made by a lost attempt of ours: tagged in the same call, it is ours once
                // listed (someone else's is listed without the stack's tags).
                return wait_found(cx.aws, cx.names, name).await;
            }
        };
        let targets = follow(cx.aws, &operation, name).await?;
        targets.ok_or_else(|| AwsError::new("create namespace", name, "no namespace id"))
    }

    async fn fix(_: &Cx<'_>, _: &Spec, _: &Observed, _: &State, fix: &Fix) -> Result<(), AwsError> {
        match *fix {}
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        // Services whose last instances ECS is still deregistering keep it in use.
        let out = retry(Backoff::DRAIN, AwsError::is_dependency_violation, || async {
            cx.aws
                .discovery
                .delete_namespace()
                .id(&have.id)
                .send()
                .await
                .ctx("delete namespace", &have.name)
        })
        .await
        .ok_if_not_found()?;
        if let Some(op) = out.and_then(|o| o.operation_id().map(str::to_string)) {
            follow(cx.aws, &op, &have.name).await?;
        }
        Ok(())
    }
}

/// Waits for Cloud Map operation `id` on `name` to end; the namespace id when it made one.
pub async fn follow(aws: &Aws, id: &str, name: &str) -> Result<Option<String>, AwsError> {
    let op = retry(OPERATION, AwsError::is_pending, || async {
        let out = aws
            .discovery
            .get_operation()
            .operation_id(id)
            .send()
            .await
            .ctx("follow Cloud Map operation on", name)?;
        let op = out.operation().cloned().unwrap_or_else(|| {
            aws_sdk_servicediscovery::types::Operation::builder().build()
        });
        match op.status() {
            Some(OperationStatus::Success) => Ok(op),
            Some(OperationStatus::Fail) => Err(AwsError::new(
                "change",
                name,
                format!(
                    "Cloud Map failed: {} ({})",
                    op.error_message().unwrap_or("no message"),
                    op.error_code().unwrap_or("no code")
                ),
            )),
            _ => Err(AwsError::pending("follow Cloud Map operation on", name)),
        }
    })
    .await?;
    Ok(op
        .targets()
        .and_then(|t| t.get(&OperationTargetType::Namespace))
        .cloned())
}

/// After NamespaceAlreadyExists: our namespace's id once it is listed; an error at once when
/// the namespace of that name is someone else's.
async fn wait_found(aws: &Aws, names: &Names, name: &str) -> Result<String, AwsError> {
    retry(OPERATION, AwsError::is_pending, || async {
        let listed = listed(aws, names).await?;
        match listed.iter().find(|(_, ours)| *ours) {
            Some((ns, _)) => Ok(ns.id().unwrap_or_default().to_string()),
            None if !listed.is_empty() => Err(AwsError::new(
                "create namespace",
                name,
                "a namespace of this name exists on the VPC and is not this stack's",
            )),
            None => Err(AwsError::pending("find namespace", name)),
        }
    })
    .await
}

/// Whether Cloud Map resource `arn` carries this stack's tags.
pub async fn owned(aws: &Aws, names: &Names, arn: &str) -> Result<bool, AwsError> {
    let tags = aws
        .discovery
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ctx("list tags of", arn)
        .ok_if_not_found()?;
    let Some(tags) = tags else { return Ok(false) };
    Ok(names.owns(tags.tags().iter().map(|t| (t.key(), t.value()))))
}

/// The private DNS namespaces of the stack's namespace name, and whether each carries the
/// stack's tags.
async fn listed(aws: &Aws, names: &Names) -> Result<Vec<(NamespaceSummary, bool)>, AwsError> {
    let name = names.namespace();
    let filter = NamespaceFilter::builder()
        .name(NamespaceFilterName::Name)
        .values(&name)
        .build()
        .map_err(|e| AwsError::new("list", "namespaces", e.to_string()))?;
    let mut pages = aws
        .discovery
        .list_namespaces()
        .filters(filter)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list", "namespaces")?;
        found.extend(page.namespaces().iter().cloned());
    }
    let mut out = Vec::new();
    for ns in found {
        if ns.name() != Some(name.as_str()) || ns.r#type() != Some(&NamespaceType::DnsPrivate) {
            continue;
        }
        let (Some(_), Some(arn)) = (ns.id(), ns.arn()) else {
            continue;
        };
        let ours = owned(aws, names, arn).await?;
        out.push((ns, ours));
    }
    Ok(out)
}

/// The stack's namespace: the private DNS namespace of its name that carries its tags.
pub async fn find(aws: &Aws, names: &Names) -> Result<Option<Observed>, AwsError> {
    let listed = listed(aws, names).await?;
    let Some((ns, _)) = listed.into_iter().find(|(_, ours)| *ours) else {
        return Ok(None);
    };
    let zone = ns
        .properties()
        .and_then(|p| p.dns_properties())
        .and_then(|d| d.hosted_zone_id())
        .map(str::to_string);
    Ok(Some(Observed {
        key: plan::desired::namespace(),
        id: ns.id().unwrap_or_default().to_string(),
        name: names.namespace(),
        state: plan::State::Namespace(State { hosted_zone: zone }),
    }))
}

/// Cloud Map makes a Route 53 private hosted zone for a DNS namespace ("AWS Cloud Map
/// namespaces", Cloud Map Developer Guide), billed as any zone; ECS service discovery adds
/// nothing per task besides it and its queries ("Service discovery", ECS Developer Guide).
fn zone() -> Vec<cost::Usage> {
    vec![cost::Usage::new(
        cost::Meter::HostedZoneMonths,
        1.0,
        "its private hosted zone",
    )]
}
