//! What goes to ECS (a service's settings, resolved to ids) and what comes back (a service
//! reduced to [`ServiceState`]).

use aws_sdk_ecs::types::{
    AdvancedConfiguration, AssignPublicIp, AwsVpcConfiguration, CanaryConfiguration,
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentStrategy, LinearConfiguration,
    LoadBalancer, NetworkConfiguration, Service as EcsService, ServiceRegistry,
};

use super::ASSIGN_PUBLIC_IP;
use crate::aws::AwsError;
use crate::aws::kind::Cx;
use crate::config::Deploy;
use crate::plan::{Deployment, MAX_PERCENT, MIN_PERCENT, ServiceSpec, ServiceState};

pub(super) fn state(s: &EcsService) -> ServiceState {
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
        registry: s
            .service_registries()
            .first()
            .and_then(|r| r.registry_arn())
            .map(str::to_string),
        container: lb.and_then(|l| l.container_name()).map(str::to_string),
        port: lb.and_then(|l| l.container_port()),
        grace_seconds: s.health_check_grace_period_seconds().unwrap_or_default(),
        min_percent: conf
            .and_then(|c| c.minimum_healthy_percent())
            .unwrap_or_default(),
        max_percent: conf.and_then(|c| c.maximum_percent()).unwrap_or_default(),
        circuit_breaker: breaker.is_some_and(|b| b.enable()),
        rollback: breaker.is_some_and(|b| b.rollback()),
        strategy: conf
            .and_then(|c| c.strategy())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        bake_minutes: conf.and_then(|c| c.bake_time_in_minutes()),
        // The strategy's own: ECS may keep the other's after a switch.
        steps: conf.and_then(|c| {
            let steps = match c.strategy()?.as_str() {
                "CANARY" => c
                    .canary_configuration()
                    .map(|x| (x.canary_percent(), x.canary_bake_time_in_minutes()))?,
                "LINEAR" => c
                    .linear_configuration()
                    .map(|x| (x.step_percent(), x.step_bake_time_in_minutes()))?,
                _ => return None,
            };
            match steps {
                (Some(p), Some(m)) => Some((p, m)),
                _ => None,
            }
        }),
        advanced: lb.and_then(|l| l.advanced_configuration()).map(|a| {
            (
                a.alternate_target_group_arn().unwrap_or_default().to_string(),
                a.production_listener_rule().unwrap_or_default().to_string(),
                a.role_arn().unwrap_or_default().to_string(),
            )
        }),
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
    /// Autoscaling owns the count: updates leave it.
    pub scaled: bool,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub target_group: Option<String>,
    pub registry: Option<String>,
    pub container: &'a str,
    pub port: i32,
    pub grace_seconds: i32,
    pub deploy: Deploy,
    /// With a traffic-shifting strategy: (alternate target group, production listener rule,
    /// role), the rule found on the listener when sending.
    pub advanced: Option<(String, String, String)>,
}

impl<'s> Settings<'s> {
    /// `s` with the ids of the resources it names.
    pub fn of(cx: &Cx<'_>, s: &'s ServiceSpec) -> Result<Settings<'s>, AwsError> {
        Ok(Settings {
            task_definition: cx.id(&s.task_definition)?,
            desired: s.desired,
            scaled: s.scaled,
            subnets: cx.ids_of(&s.subnets)?,
            security_group: cx.id(&s.security_group)?,
            target_group: s
                .target_group
                .as_ref()
                .map(|(tg, _)| cx.id(tg))
                .transpose()?,
            registry: s.registry.as_ref().map(|r| cx.id(r)).transpose()?,
            container: &s.container,
            port: s.port,
            grace_seconds: s.grace_seconds,
            deploy: s.deploy,
            advanced: None,
        })
    }

    /// The pair in the order ECS reports it (`have`), when it is the same pair: sending it
    /// swapped would fight the alternation ECS keeps.
    pub fn ordered_as(mut self, have: Option<&ServiceState>) -> Self {
        let reported = have.and_then(|h| Some((h.target_group.clone()?, h.advanced.clone()?.0)));
        if let (Some((tg, alt)), Some(target), Some((mine, _, _))) =
            (reported, &mut self.target_group, &mut self.advanced)
            && (&tg, &alt) == (mine, target)
        {
            std::mem::swap(target, mine);
        }
        self
    }

    pub(super) fn network(&self) -> NetworkConfiguration {
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
    pub(super) fn load_balancers(&self) -> Vec<LoadBalancer> {
        let advanced = self.advanced.as_ref().map(|(alternate, rule, role)| {
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(alternate)
                .production_listener_rule(rule)
                .role_arn(role)
                .build()
        });
        self.target_group
            .iter()
            .map(|tg| {
                LoadBalancer::builder()
                    .target_group_arn(tg)
                    .container_name(self.container)
                    .container_port(self.port)
                    .set_advanced_configuration(advanced.clone())
                    .build()
            })
            .collect()
    }
    /// A records for the tasks' addresses (awsvpc): the registry alone, no port (ECS API
    /// Reference, "ServiceRegistry"). Empty removes it.
    pub(super) fn registries(&self) -> Vec<ServiceRegistry> {
        self.registry
            .iter()
            .map(|arn| ServiceRegistry::builder().registry_arn(arn).build())
            .collect()
    }
    pub(super) fn grace(&self) -> Option<i32> {
        self.target_group.as_ref().map(|_| self.grace_seconds)
    }
}

/// Rolling updates that never drop below the desired count; a deployment whose tasks keep
/// failing is stopped and rolled back by ECS. The other strategies take their bake time and
/// steps, and no circuit breaker: ECS takes it for rolling updates only (ECS API Reference,
/// "DeploymentCircuitBreaker").
pub fn deployment_configuration(deploy: &Deploy) -> DeploymentConfiguration {
    let b = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::from(crate::plan::ecs_strategy(deploy)));
    if !deploy.shifts_traffic() {
        return b
            .minimum_healthy_percent(MIN_PERCENT)
            .maximum_percent(MAX_PERCENT)
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(true)
                    .rollback(true)
                    .build(),
            )
            .build();
    }
    // Sent off explicitly: whether ECS keeps a field an update leaves out is not documented.
    let b = b
        .set_bake_time_in_minutes(crate::plan::bake_minutes(deploy))
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(false)
                .rollback(false)
                .build(),
        );
    match (deploy, crate::plan::steps(deploy)) {
        (Deploy::Canary { .. }, Some((percent, minutes))) => b.canary_configuration(
            CanaryConfiguration::builder()
                .canary_percent(percent)
                .canary_bake_time_in_minutes(minutes)
                .build(),
        ),
        (Deploy::Linear { .. }, Some((percent, minutes))) => b.linear_configuration(
            LinearConfiguration::builder()
                .step_percent(percent)
                .step_bake_time_in_minutes(minutes)
                .build(),
        ),
        _ => b,
    }
    .build()
}

/// What `plan`'s JSON shows of a service's settings.
pub(super) fn settings(spec: &ServiceSpec) -> serde_json::Value {
    use super::{ASSIGN_PUBLIC_IP, ECS_MANAGED_TAGS, LAUNCH_TYPE, PLATFORM_VERSION, PROPAGATE_TAGS};
    use crate::plan;
    use serde_json::json;
        let d = deployment_configuration(&spec.deploy);
        if spec.deploy.shifts_traffic() {
            return json!({
                "launch_type": LAUNCH_TYPE.as_str(),
                "platform_version": PLATFORM_VERSION,
                "assign_public_ip": ASSIGN_PUBLIC_IP.as_str(),
                "deployment": {
                    "strategy": d.strategy().map(|s| s.as_str()),
                    "bake_time_in_minutes": d.bake_time_in_minutes(),
                    "steps": plan::steps(&spec.deploy).map(|(percent, minutes)| json!({ "percent": percent, "minutes": minutes })),
                    "alternate_target_group": spec.alternate,
                    "infrastructure_role": spec.infrastructure_role.as_ref().map(|r| &r.0),
                },
                "propagate_tags": PROPAGATE_TAGS.as_str(),
                "enable_ecs_managed_tags": ECS_MANAGED_TAGS,
            });
        }
        let breaker = d.deployment_circuit_breaker();
        json!({
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
