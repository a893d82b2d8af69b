//! ECS services on Fargate: public IP in the public subnets (no NAT gateway), rolling
//! updates that never drop below the desired count, circuit breaker with rollback.

use aws_sdk_ecs::types::{AssignPublicIp, LaunchType, PropagateTags, ServiceField, Tag};
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

mod billing;
mod shift;
mod wire;
use shift::shifting;
use wire::state;
pub use wire::{Settings, deployment_configuration};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, Permission, SERVICES, Scope};
use super::retry::{Backoff, retry};
use super::task_definition::is_role_propagation;
use super::{Aws, AwsError, Ctx};
use crate::cost;
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, ServiceSpec, ServiceState};

/// An ECS service on Fargate, behind the load balancer when public.
pub struct Service;

/// DescribeServiceRevisions: authorized on the service and its revisions (SAR, Amazon ECS).
const SERVICE_REVISIONS: &[&str] = &[
    SERVICES[0],
    "arn:{partition}:ecs:{region}:{account}:service-revision/{stack}-{env}/{stack}-{env}-*/*",
];
/// DescribeServiceDeployments, StopServiceDeployment: on the service deployment, and, as the
/// revisions are, on its service.
const SERVICE_DEPLOYMENTS: &[&str] = &[
    SERVICES[0],
    "arn:{partition}:ecs:{region}:{account}:service-deployment/{stack}-{env}/{stack}-{env}-*/*",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    /// One UpdateService call bringing every setting in line (a new deployment).
    UpdateService { changed: Vec<String> },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::UpdateService { changed } => write!(f, "deploy ({})", changed.join(", ")),
        }
    }
}

impl Resource for Service {
    type Spec = ServiceSpec;
    type State = ServiceState;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ecs:ListServices", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ecs:DescribeServices", Scope::Arns("TheStacksServices", SERVICES), &[Up, RotateToken, Status, Logs, Down, Check, Rollback]),
            // Its deployment history: what `status` lists and `rollback` goes back to.
            ("ecs:ListServiceDeployments", Scope::Arns("TheStacksServices", SERVICES), &[Up, RotateToken, Status, Rollback]),
            // A blue/green, canary or linear rollout: its stage, and stopping it to roll back.
            ("ecs:DescribeServiceDeployments", Scope::Arns("TheStacksServiceDeployments", SERVICE_DEPLOYMENTS), &[Up, RotateToken, Rollback]),
            ("ecs:StopServiceDeployment", Scope::Arns("TheStacksServiceDeployments", SERVICE_DEPLOYMENTS), &[Up, RotateToken, Rollback]),
            ("ecs:DescribeServiceRevisions", Scope::Arns("TheStacksServiceRevisions", SERVICE_REVISIONS), &[Status, Rollback]),
            ("ecs:CreateService", Scope::Arns("TheStacksServices", SERVICES), &[Up]),
            ("ecs:UpdateService", Scope::Arns("TheStacksServices", SERVICES), &[Up, RotateToken, Down, Rollback]),
            ("ecs:DeleteService", Scope::Arns("TheStacksServices", SERVICES), &[Up, Down]),
        ]
    };

    fn deps(s: &ServiceSpec) -> Vec<Key> {
        let mut d = vec![
            s.cluster.clone(),
            s.task_definition.clone(),
            s.security_group.clone(),
        ];
        d.extend(s.subnets.iter().cloned());
        if let Some((tg, listener)) = &s.target_group {
            d.extend([tg.clone(), listener.clone()]);
        }
        d.extend(s.alternate.iter().cloned());
        d.extend(s.infrastructure_role.iter().map(|r| r.0.clone()));
        d.extend(s.registry.iter().cloned());
        d
    }

    /// Its tasks use everything else; stopping them frees the network interfaces. Its
    /// autoscaling goes first.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        !matches!(other, Kind::Service | Kind::Scaling)
    }

    fn diff(want: &ServiceSpec, have: &ServiceState, ids: &Ids) -> Result<Vec<Fix>, String> {
        let changed = plan::service_changes(want, have, ids);
        Ok(if changed.is_empty() {
            vec![]
        } else {
            vec![Fix::UpdateService { changed }]
        })
    }

    fn summary(s: &ServiceState) -> String {
        format!(
            "{}: {} running, {} pending of {}",
            s.status, s.running, s.pending, s.desired
        )
    }

    fn usage(key: &Key, spec: &ServiceSpec, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billing::desired(key, spec, i)
    }

    fn usage_now(key: &Key, have: &ServiceState, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billing::now(key, have, i)
    }

    fn settings(_: &Key, spec: &ServiceSpec) -> Value {
        wire::settings(spec)
    }

    #[cfg(test)]
    fn converged(spec: &ServiceSpec, id: &dyn Fn(&Key) -> String) -> ServiceState {
        ServiceState {
            status: "ACTIVE".into(),
            task_definition: id(&spec.task_definition),
            desired: spec.desired,
            running: spec.desired,
            pending: 0,
            subnets: spec.subnets.iter().map(id).collect(),
            security_groups: vec![id(&spec.security_group)],
            public_ip: true,
            target_group: spec.target_group.as_ref().map(|(tg, _)| id(tg)),
            registry: spec.registry.as_ref().map(id),
            container: Some(spec.container.clone()),
            port: Some(spec.port),
            grace_seconds: spec.grace_seconds,
            min_percent: plan::MIN_PERCENT,
            max_percent: plan::MAX_PERCENT,
            circuit_breaker: !spec.deploy.shifts_traffic(),
            rollback: !spec.deploy.shifts_traffic(),
            deployments: vec![],
            strategy: plan::ecs_strategy(&spec.deploy).into(),
            bake_minutes: plan::bake_minutes(&spec.deploy),
            steps: plan::steps(&spec.deploy),
            advanced: spec.alternate.as_ref().filter(|_| spec.deploy.shifts_traffic()).map(|a| {
                let role = spec.infrastructure_role.as_ref().map(|r| r.1.clone()).unwrap_or_default();
                let listener = spec.target_group.as_ref().map(|t| id(&t.1)).unwrap_or_default();
                (id(a), format!("{}1", plan::rule_prefix(&listener)), role)
            }),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(
        cx: &Cx<'_>,
        key: &Key,
        name: &str,
        spec: &ServiceSpec,
    ) -> Result<String, AwsError> {
        let settings = shifting(cx, spec, Settings::of(cx, spec)?).await?;
        create(cx.aws, cx.names, key, name, &settings).await
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &ServiceSpec,
        have: &Observed,
        state: &ServiceState,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::UpdateService { .. } => {
                let settings = shifting(cx, want, Settings::of(cx, want)?).await?;
                let settings = settings.ordered_as(Some(state));
                update(cx.aws, cx.names, &have.id, &settings).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &ServiceState) -> Result<(), AwsError> {
        delete(cx.aws, cx.names, &have.id).await
    }
}

/// On Fargate's current platform, tagged like the service, with ECS's own tags.
pub const LAUNCH_TYPE: LaunchType = LaunchType::Fargate;
pub const PLATFORM_VERSION: &str = "LATEST";
pub const PROPAGATE_TAGS: PropagateTags = PropagateTags::Service;
pub const ECS_MANAGED_TAGS: bool = true;
/// Public subnets with a public IP reach ECR, SSM and CloudWatch without a NAT gateway.
pub const ASSIGN_PUBLIC_IP: AssignPublicIp = AssignPublicIp::Enabled;

/// Every service of the stack's cluster that is not deleted (INACTIVE).
pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let cluster = names.cluster();
    let mut arns = Vec::new();
    let mut pages = aws
        .ecs
        .list_services()
        .cluster(&cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page.ctx("list services of cluster", &cluster) {
            Ok(p) => arns.extend(p.service_arns().iter().cloned()),
            Err(e) if e.is_not_found() => return Ok(vec![]),
            Err(e) => return Err(e),
        }
    }
    let mut found = Vec::new();
    for chunk in arns.chunks(10) {
        found.extend(describe(aws, names, chunk).await?);
    }
    Ok(found)
}

/// DescribeServices for names or ARNs (at most 10); deleted ones are left out.
pub async fn describe(
    aws: &Aws,
    names: &Names,
    services: &[String],
) -> Result<Vec<Observed>, AwsError> {
    let cluster = names.cluster();
    let out = aws
        .ecs
        .describe_services()
        .cluster(&cluster)
        .set_services(Some(services.to_vec()))
        .include(ServiceField::Tags)
        .send()
        .await;
    let out = match out.ctx("describe services of cluster", &cluster) {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let prefix = names.ecs_service("");
    Ok(out
        .services()
        .iter()
        .filter(|s| matches!(s.status(), Some("ACTIVE" | "DRAINING")))
        .filter_map(|s| {
            let name = s.service_name()?;
            let logical = name.strip_prefix(&prefix)?;
            Some(Observed {
                key: Key::new(Kind::Service, logical),
                id: s.service_arn().unwrap_or(name).into(),
                name: name.into(),
                state: plan::State::Service(state(s)),
            })
        })
        .collect())
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    s: &Settings<'_>,
) -> Result<String, AwsError> {
    let cluster = names.cluster();
    let tags: Vec<Tag> = super::tags(names, &key.0, name)?;
    // One token per run: an SDK retry of a lost reply returns the same service, not a second.
    let token: String = format!("{:032x}", rand::rng().random::<u128>());
    let attempt = || async {
        aws.ecs
            .create_service()
            .cluster(&cluster)
            .service_name(name)
            .task_definition(&s.task_definition)
            .desired_count(s.desired)
            .launch_type(LAUNCH_TYPE)
            .platform_version(PLATFORM_VERSION)
            .network_configuration(s.network())
            .set_load_balancers(Some(s.load_balancers()))
            .set_service_registries(Some(s.registries()))
            .set_health_check_grace_period_seconds(s.grace())
            .deployment_configuration(deployment_configuration(&s.deploy))
            .propagate_tags(PROPAGATE_TAGS)
            .enable_ecs_managed_tags(ECS_MANAGED_TAGS)
            .set_tags(Some(tags.clone()))
            .client_token(&token)
            .send()
            .await
            .ctx("create ECS service", name)
    };
    // A just-created role (the task's, or the account's service-linked role) may not be
    // assumable yet; a service of the same name still draining after a `down` blocks the name
    // for a while.
    let out = retry(
        Backoff::DRAIN,
        |e| {
            is_role_propagation(e)
                || super::service_linked_role::is_pending(e)
                || e.message.to_lowercase().contains("draining")
        },
        attempt,
    )
    .await;
    match out {
        Ok(o) => Ok(o
            .service()
            .and_then(|s| s.service_arn())
            .unwrap_or(name)
            .to_string()),
        // Made by an earlier attempt whose reply was lost: adopt it (the next `up` fixes it).
        Err(e) if e.is_already_exists() => {
            let found = describe(aws, names, &[name.to_string()]).await?;
            found.into_iter().next().map(|o| o.id).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// One UpdateService with every setting: a new deployment of `s.task_definition`.
pub async fn update(aws: &Aws, names: &Names, arn: &str, s: &Settings<'_>) -> Result<(), AwsError> {
    let cluster = names.cluster();
    retry(Backoff::PROPAGATION, is_role_propagation, || async {
        aws.ecs
            .update_service()
            .cluster(&cluster)
            .service(arn)
            .task_definition(&s.task_definition)
            // With autoscaling the running count is the scaler's: sending ours would undo it.
            .set_desired_count((!s.scaled).then_some(s.desired))
            .network_configuration(s.network())
            .set_load_balancers(Some(s.load_balancers()))
            .set_service_registries(Some(s.registries()))
            .set_health_check_grace_period_seconds(s.grace())
            .deployment_configuration(deployment_configuration(&s.deploy))
            .send()
            .await
            .ctx("update ECS service", arn)
    })
    .await?;
    Ok(())
}

/// Roll back to `task_definition` (the last revision that was healthy).
pub async fn roll_back(
    aws: &Aws,
    names: &Names,
    arn: &str,
    task_definition: &str,
) -> Result<(), AwsError> {
    aws.ecs
        .update_service()
        .cluster(names.cluster())
        .service(arn)
        .task_definition(task_definition)
        .send()
        .await
        .ctx("roll back ECS service", arn)?;
    Ok(())
}

/// Deletes the service (stopping its tasks) and waits until ECS reports it gone, so the
/// network interfaces its tasks held are on their way out before subnets and groups go.
pub async fn delete(aws: &Aws, names: &Names, arn: &str) -> Result<(), AwsError> {
    let out = aws
        .ecs
        .delete_service()
        .cluster(names.cluster())
        .service(arn)
        .force(true)
        .send()
        .await
        .ctx("delete ECS service", arn);
    match out {
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    retry(
        Backoff::DRAIN,
        |e| e.code() == "StillDraining",
        || async {
            let left = describe(aws, names, &[arn.to_string()]).await?;
            if left.is_empty() {
                Ok(())
            } else {
                Err(AwsError {
                    code: Some("StillDraining".into()),
                    ..AwsError::new("delete ECS service", arn, "its tasks are still stopping")
                })
            }
        },
    )
    .await
}
