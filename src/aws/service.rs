//! ECS services on Fargate: public IP in the public subnets (no NAT gateway), rolling
//! updates that never drop below the desired count, circuit breaker with rollback.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    LaunchType, LoadBalancer, NetworkConfiguration, PropagateTags, Service as EcsService,
    ServiceField, Tag,
};
use rand::Rng;

use super::retry::{Backoff, retry};
use super::task_definition::is_role_propagation;
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{Deployment, Key, Kind, MAX_PERCENT, MIN_PERCENT, Observed, ServiceState, State};

/// On Fargate's current platform, tagged like the service, with ECS's own tags.
pub const LAUNCH_TYPE: LaunchType = LaunchType::Fargate;
pub const PLATFORM_VERSION: &str = "LATEST";
pub const PROPAGATE_TAGS: PropagateTags = PropagateTags::Service;
pub const ECS_MANAGED_TAGS: bool = true;
/// Public subnets with a public IP reach ECR, SSM and CloudWatch without a NAT gateway.
pub const ASSIGN_PUBLIC_IP: AssignPublicIp = AssignPublicIp::Enabled;

/// What every service is created with besides its own settings, as JSON (for `explain`).
pub fn fixed_settings_json() -> serde_json::Value {
    let d = deployment_configuration();
    let breaker = d.deployment_circuit_breaker();
    serde_json::json!({
        "launch_type": LAUNCH_TYPE.as_str(),
        "platform_version": PLATFORM_VERSION,
        "assign_public_ip": ASSIGN_PUBLIC_IP.as_str(),
        "deployment": {
            "minimum_healthy_percent": d.minimum_healthy_percent(),
            "maximum_percent": d.maximum_percent(),
            "circuit_breaker": breaker.is_some_and(|b| b.enable()),
            "rollback": breaker.is_some_and(|b| b.rollback()),
        },
        "propagate_tags": PROPAGATE_TAGS.as_str(),
        "enable_ecs_managed_tags": ECS_MANAGED_TAGS,
    })
}

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
                state: State::Service(state(s)),
            })
        })
        .collect())
}

fn state(s: &EcsService) -> ServiceState {
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let lb = s.load_balancers().first();
    let conf = s.deployment_configuration();
    let breaker = conf.and_then(|c| c.deployment_circuit_breaker());
    ServiceState {
        status: s.status().unwrap_or_default().into(),
        task_definition: s.task_definition().unwrap_or_default().into(),
        desired: s.desired_count(),
        running: s.running_count(),
        pending: s.pending_count(),
        subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
        security_groups: vpc
            .map(|v| v.security_groups().to_vec())
            .unwrap_or_default(),
        public_ip: vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled),
        target_group: lb.and_then(|l| l.target_group_arn()).map(str::to_string),
        container: lb.and_then(|l| l.container_name()).map(str::to_string),
        port: lb.and_then(|l| l.container_port()),
        grace_seconds: s.health_check_grace_period_seconds().unwrap_or_default(),
        min_percent: conf
            .and_then(|c| c.minimum_healthy_percent())
            .unwrap_or_default(),
        max_percent: conf.and_then(|c| c.maximum_percent()).unwrap_or_default(),
        circuit_breaker: breaker.is_some_and(|b| b.enable()),
        rollback: breaker.is_some_and(|b| b.rollback()),
        deployments: s
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().into(),
                status: d.status().unwrap_or_default().into(),
                task_definition: d.task_definition().unwrap_or_default().into(),
                rollout: d
                    .rollout_state()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                rollout_reason: d.rollout_state_reason().unwrap_or_default().into(),
                desired: d.desired_count(),
                running: d.running_count(),
                pending: d.pending_count(),
                failed: d.failed_tasks(),
            })
            .collect(),
    }
}

/// Everything CreateService and UpdateService set, resolved to AWS ids.
pub struct Settings<'a> {
    pub task_definition: String,
    pub desired: i32,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub target_group: Option<String>,
    pub container: &'a str,
    pub port: i32,
    pub grace_seconds: i32,
}

impl Settings<'_> {
    fn network(&self) -> NetworkConfiguration {
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(self.subnets.clone()))
            .security_groups(&self.security_group)
            .assign_public_ip(ASSIGN_PUBLIC_IP)
            .build()
            .expect("subnets set");
        NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build()
    }
    fn load_balancers(&self) -> Vec<LoadBalancer> {
        self.target_group
            .iter()
            .map(|tg| {
                LoadBalancer::builder()
                    .target_group_arn(tg)
                    .container_name(self.container)
                    .container_port(self.port)
                    .build()
            })
            .collect()
    }
    fn grace(&self) -> Option<i32> {
        self.target_group.as_ref().map(|_| self.grace_seconds)
    }
}

/// Rolling updates that never drop below the desired count; a deployment whose tasks keep
/// failing is stopped and rolled back by ECS.
pub fn deployment_configuration() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(MIN_PERCENT)
        .maximum_percent(MAX_PERCENT)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .build()
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
            .set_health_check_grace_period_seconds(s.grace())
            .deployment_configuration(deployment_configuration())
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
                || super::iam::is_service_linked_role_pending(e)
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
            .desired_count(s.desired)
            .network_configuration(s.network())
            .set_load_balancers(Some(s.load_balancers()))
            .set_health_check_grace_period_seconds(s.grace())
            .deployment_configuration(deployment_configuration())
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
