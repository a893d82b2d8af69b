//! A Cloud Map service per service that others call: `<service>.<namespace>` answers with an
//! A record per running task (MULTIVALUE, a short TTL so a stopped task leaves callers'
//! caches fast). ECS registers and deregisters the tasks (the service's `serviceRegistries`)
//! and reports their health through the custom health check, which can only be set when the
//! Cloud Map service is made (Cloud Map API Reference, "CreateService",
//! "HealthCheckCustomConfig"). Deleting it is refused with ResourceInUse while ECS has not
//! yet deregistered the last stopped task.

use aws_sdk_servicediscovery::types::{
    DnsConfig, DnsConfigChange, DnsRecord, HealthCheckCustomConfig, RecordType, RoutingPolicy,
    ServiceChange, ServiceFilter, ServiceFilterName,
};
use aws_sdk_servicediscovery::operation::create_service::CreateServiceError;
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, DISCOVERY_SERVICES, NAMESPACES, Permission, Scope};
use super::retry::delete_draining;
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// A Cloud Map service in the stack's namespace.
pub struct Discovery;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub namespace: Key,
    pub ttl: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub ttl: Option<i64>,
    pub record_type: Option<String>,
    pub custom_health: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetTtl { seconds: i64 },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetTtl { seconds } => write!(f, "answer with a TTL of {seconds} s"),
        }
    }
}

/// Seconds callers may cache a task's address.
pub const TTL: i64 = 10;

impl Resource for Discovery {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    // Generated IDs again; UpdateService changes the records in the namespace's zone.
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("servicediscovery:ListServices", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("servicediscovery:CreateService", Scope::New("CreatingTheStacksDiscoveryServices", DISCOVERY_SERVICES), &[Up]),
            // ...in the stack's namespace.
            ("servicediscovery:CreateService", Scope::TaggedArns("TheStacksDiscovery", NAMESPACES), &[Up]),
            ("servicediscovery:UpdateService", Scope::TaggedArns("TheStacksDiscoveryServices", DISCOVERY_SERVICES), &[Up]),
            ("servicediscovery:DeleteService", Scope::TaggedArns("TheStacksDiscoveryServices", DISCOVERY_SERVICES), &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.namespace.clone()]
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Namespace
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if !have.custom_health || have.record_type.as_deref() != Some("A") {
            return Err("its health check or record type can only be set when it is made".into());
        }
        Ok(if have.ttl == Some(want.ttl) {
            vec![]
        } else {
            vec![Fix::SetTtl { seconds: want.ttl }]
        })
    }

    fn summary(have: &State) -> String {
        format!("A records, TTL {} s", have.ttl.unwrap_or_default())
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({ "routing_policy": "MULTIVALUE", "record_type": "A", "health": "reported by ECS" })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            ttl: Some(spec.ttl),
            record_type: Some("A".into()),
            custom_health: true,
        }
    }

    /// Services are listed per namespace: the namespace's find finds them.
    async fn find(_: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(Vec::new())
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let namespace = cx.id(&spec.namespace)?;
        let dns = DnsConfig::builder()
            .routing_policy(RoutingPolicy::Multivalue)
            .dns_records(record(spec.ttl)?)
            .build()
            .map_err(|e| AwsError::new("create discovery service", name, e.to_string()))?;
        let tags = super::tags(cx.names, &key.0, name)?;
        let out = cx
            .aws
            .discovery
            .create_service()
            .name(name)
            .namespace_id(&namespace)
            .dns_config(dns)
            .health_check_custom_config(HealthCheckCustomConfig::builder().build())
            .set_tags(Some(tags))
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.service().and_then(|s| s.arn()).unwrap_or_default().into()),
            Err(e) => {
                let existing = e
                    .as_service_error()
                    .and_then(|s| match s {
                        CreateServiceError::ServiceAlreadyExists(x) => Some(x),
                        _ => None,
                    })
                    .and_then(|x| x.service_id())
                    .map(str::to_string);
                let err = Err(e).ctx("create discovery service", name);
                // Made by a lost attempt of ours when it carries the stack's tags.
                let Some(id) = existing else { return err };
                let found = find(cx.aws, cx.names, &namespace).await?;
                match found.into_iter().find(|o| id_of(&o.id) == id) {
                    Some(o) => Ok(o.id),
                    None => err,
                }
            }
        }
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetTtl { seconds } => {
                let change = DnsConfigChange::builder()
                    .dns_records(record(*seconds)?)
                    .build()
                    .map_err(|e| AwsError::new("update discovery service", &have.name, e.to_string()))?;
                let out = cx
                    .aws
                    .discovery
                    .update_service()
                    .id(id_of(&have.id))
                    .service(ServiceChange::builder().dns_config(change).build())
                    .send()
                    .await
                    .ctx("update discovery service", &have.name)?;
                if let Some(op) = out.operation_id() {
                    super::namespace::follow(cx.aws, op, &have.name).await?;
                }
                Ok(())
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete_draining(|| async {
            cx.aws
                .discovery
                .delete_service()
                .id(id_of(&have.id))
                .send()
                .await
                .ctx("delete discovery service", &have.name)
        })
        .await
    }
}

/// The service id (`srv-…`) Cloud Map's calls take, from the ARN ECS takes (the resource's
/// id here): `arn:…:service/srv-…`.
fn id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn record(ttl: i64) -> Result<DnsRecord, AwsError> {
    DnsRecord::builder()
        .r#type(RecordType::A)
        .ttl(ttl)
        .build()
        .map_err(|e| AwsError::new("make", "DNS record", e.to_string()))
}

/// The stack's services in namespace `namespace` (tagged by stackctl).
pub async fn find(aws: &Aws, names: &Names, namespace: &str) -> Result<Vec<Observed>, AwsError> {
    let filter = ServiceFilter::builder()
        .name(ServiceFilterName::NamespaceId)
        .values(namespace)
        .build()
        .map_err(|e| AwsError::new("list", "discovery services", e.to_string()))?;
    let mut pages = aws
        .discovery
        .list_services()
        .filters(filter)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list discovery services of", namespace)?;
        found.extend(page.services().iter().cloned());
    }
    let mut out = Vec::new();
    for s in found {
        let (Some(arn), Some(name)) = (s.arn(), s.name()) else {
            continue;
        };
        if !super::namespace::owned(aws, names, arn).await? {
            continue;
        }
        let record = s.dns_config().and_then(|d| d.dns_records().first());
        out.push(Observed {
            key: plan::desired::discovery(name),
            id: arn.to_string(),
            name: name.to_string(),
            state: plan::State::Discovery(State {
                ttl: record.map(|r| r.ttl()),
                record_type: record.map(|r| r.r#type().as_str().to_string()),
                custom_health: s.health_check_custom_config().is_some(),
            }),
        });
    }
    Ok(out)
}
