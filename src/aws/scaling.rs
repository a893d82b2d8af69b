//! Autoscaling of an ECS service: its Application Auto Scaling scalable target (the task count,
//! between min and max) and its target-tracking policies (average CPU, requests per task).
//! The scaler owns the running count: `up` never sets it once scaling is on.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, Permission, Scope};
use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// A service's scalable target and its policies.
pub struct Scaling;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub service: Key,
    /// Application Auto Scaling's service-linked role, which it scales and alarms with.
    pub role: Key,
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    pub min: i32,
    pub max: i32,
    pub policies: Vec<PolicySpec>,
}

/// One target-tracking policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySpec {
    pub name: String,
    pub metric: Metric,
    pub target: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Average CPU percent of the service's tasks.
    Cpu,
    /// Requests per task per minute through the load balancer, counted on this target group.
    Requests {
        load_balancer: Key,
        target_group: Key,
    },
}

impl Metric {
    fn predefined(&self) -> MetricType {
        match self {
            Metric::Cpu => MetricType::EcsServiceAverageCpuUtilization,
            Metric::Requests { .. } => MetricType::AlbRequestCountPerTarget,
        }
    }
    /// The policy's `ResourceLabel` (requests only), from the ids known so far.
    fn label(&self, id: impl Fn(&Key) -> Option<String>) -> Option<String> {
        match self {
            Metric::Cpu => None,
            Metric::Requests {
                load_balancer,
                target_group,
            } => resource_label(&id(load_balancer)?, &id(target_group)?),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub min: i32,
    pub max: i32,
    pub policies: Vec<Policy>,
}

/// A policy of the stack's (by its name) on the target, as AWS reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub name: String,
    pub metric: String,
    pub label: Option<String>,
    pub target: f64,
    pub scale_out_cooldown: Option<i32>,
    pub scale_in_cooldown: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetBounds { min: i32, max: i32 },
    PutPolicy { policy: PolicySpec },
    DeletePolicy { name: String },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetBounds { min, max } => write!(f, "scale between {min} and {max} tasks"),
            Fix::PutPolicy { policy } => write!(f, "target {}", target_text(policy)),
            Fix::DeletePolicy { name } => write!(f, "delete policy {name}"),
        }
    }
}

fn target_text(p: &PolicySpec) -> String {
    match p.metric {
        Metric::Cpu => format!("{} % CPU", p.target),
        Metric::Requests { .. } => format!("{} requests per task per minute", p.target),
    }
}

/// Out fast when load comes, in slowly (ECS's default is 300 s both ways).
pub const SCALE_OUT_COOLDOWN: i32 = 60;
pub const SCALE_IN_COOLDOWN: i32 = 300;

impl Resource for Scaling {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    const SHARED: bool = false;
    // Application Auto Scaling's scalable targets have generated ARNs and its policies none:
    // nothing to scope by name (Service Authorization Reference, Application Auto Scaling).
    // It makes the CloudWatch alarms of target tracking itself, with its service-linked role.
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("application-autoscaling:DescribeScalableTargets", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("application-autoscaling:DescribeScalingPolicies", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("application-autoscaling:DescribeScalingActivities", Scope::Any, &[Status]),
            ("application-autoscaling:RegisterScalableTarget", Scope::Any, &[Up]),
            ("application-autoscaling:TagResource", Scope::Any, &[Up]),
            ("application-autoscaling:PutScalingPolicy", Scope::Any, &[Up]),
            ("application-autoscaling:DeleteScalingPolicy", Scope::Any, &[Up, Down]),
            ("application-autoscaling:DeregisterScalableTarget", Scope::Any, &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = vec![spec.service.clone(), spec.role.clone()];
        for p in &spec.policies {
            if let Metric::Requests {
                load_balancer,
                target_group,
            } = &p.metric
            {
                d.extend([load_balancer.clone(), target_group.clone()]);
            }
        }
        d
    }

    /// Before the service: the scaler would act on a service being deleted.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Service
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let mut fixes = Vec::new();
        if (want.min, want.max) != (have.min, have.max) {
            fixes.push(Fix::SetBounds {
                min: want.min,
                max: want.max,
            });
        }
        for p in &want.policies {
            let label = p.metric.label(|k| ids.get(k).cloned());
            let same = have.policies.iter().any(|h| {
                h.name == p.name
                    && h.metric == p.metric.predefined().as_str()
                    && label == h.label
                    && h.target == f64::from(p.target)
                    && h.scale_out_cooldown == Some(SCALE_OUT_COOLDOWN)
                    && h.scale_in_cooldown == Some(SCALE_IN_COOLDOWN)
            });
            if !same {
                fixes.push(Fix::PutPolicy { policy: p.clone() });
            }
        }
        for h in &have.policies {
            if !want.policies.iter().any(|p| p.name == h.name) {
                fixes.push(Fix::DeletePolicy {
                    name: h.name.clone(),
                });
            }
        }
        Ok(fixes)
    }

    fn summary(have: &State) -> String {
        let targets: Vec<String> = have
            .policies
            .iter()
            .map(|p| match p.metric.as_str() {
                "ECSServiceAverageCPUUtilization" => format!("{} % CPU", p.target),
                "ALBRequestCountPerTarget" => format!("{} requests/task/min", p.target),
                other => format!("{other} {}", p.target),
            })
            .collect();
        format!(
            "{} to {} tasks, targets {}",
            have.min,
            have.max,
            if targets.is_empty() {
                "none".into()
            } else {
                targets.join(", ")
            }
        )
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "service_namespace": ServiceNamespace::Ecs.as_str(),
            "scalable_dimension": ScalableDimension::EcsServiceDesiredCount.as_str(),
            "policy_type": PolicyType::TargetTrackingScaling.as_str(),
            "scale_out_cooldown_seconds": SCALE_OUT_COOLDOWN,
            "scale_in_cooldown_seconds": SCALE_IN_COOLDOWN,
            "desired_count_set_by_up": false,
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            min: spec.min,
            max: spec.max,
            policies: spec
                .policies
                .iter()
                .map(|p| Policy {
                    name: p.name.clone(),
                    metric: p.metric.predefined().as_str().into(),
                    label: p.metric.label(|k| Some(id(k))),
                    target: f64::from(p.target),
                    scale_out_cooldown: Some(SCALE_OUT_COOLDOWN),
                    scale_in_cooldown: Some(SCALE_IN_COOLDOWN),
                })
                .collect(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        register(cx.aws, &spec.resource_id, spec.min, spec.max, Some((cx.names, key))).await?;
        for p in &spec.policies {
            put_policy(cx, &spec.resource_id, p).await?;
        }
        Ok(spec.resource_id.clone())
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetBounds { min, max } => register(cx.aws, &have.id, *min, *max, None).await,
            Fix::PutPolicy { policy } => put_policy(cx, &want.resource_id, policy).await,
            Fix::DeletePolicy { name } => delete_policy(cx.aws, &have.id, name).await,
        }
    }

    /// The policies, then the target (deregistering deletes the policies too; a service
    /// deleted first took both with it, hence not-found is success).
    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        for p in &state.policies {
            delete_policy(cx.aws, &have.id, &p.name).await?;
        }
        cx.aws
            .scaling
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(&have.id)
            .send()
            .await
            .ctx("deregister scalable target", &have.id)
            .ok_if_not_found()?;
        Ok(())
    }
}

/// `app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>`, what `ALBRequestCountPerTarget`
/// counts (Application Auto Scaling API Reference, PredefinedMetricSpecification).
pub fn resource_label(load_balancer_arn: &str, target_group_arn: &str) -> Option<String> {
    let lb = load_balancer_arn.split_once(":loadbalancer/")?.1;
    let tg = target_group_arn.rsplit(':').next()?;
    tg.starts_with("targetgroup/").then(|| format!("{lb}/{tg}"))
}

/// The stack's scalable targets (in its cluster) with the policies it made on them.
pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.scalable_target("");
    let mut targets = Vec::new();
    let mut pages = aws
        .scaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("describe scalable targets of", names.cluster())?;
        targets.extend(
            page.scalable_targets()
                .iter()
                .filter(|t| t.resource_id().starts_with(&prefix))
                .cloned(),
        );
    }
    let mut found = Vec::new();
    for t in targets {
        let id = t.resource_id().to_string();
        let service = &id[prefix.len()..];
        let ours = |name: &str| {
            ["cpu", "requests"]
                .iter()
                .any(|m| name == names.scaling_policy(service, m))
        };
        let mut policies = Vec::new();
        let mut pages = aws
            .scaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("describe scaling policies of", &id)?;
            for p in page.scaling_policies() {
                if p.resource_id() != id || !ours(p.policy_name()) {
                    continue;
                }
                let c = p.target_tracking_scaling_policy_configuration();
                let m = c.and_then(|c| c.predefined_metric_specification());
                policies.push(Policy {
                    name: p.policy_name().into(),
                    metric: m
                        .map(|m| m.predefined_metric_type().as_str().to_string())
                        .unwrap_or_default(),
                    label: m.and_then(|m| m.resource_label()).map(str::to_string),
                    target: c.map(|c| c.target_value()).unwrap_or_default(),
                    scale_out_cooldown: c.and_then(|c| c.scale_out_cooldown()),
                    scale_in_cooldown: c.and_then(|c| c.scale_in_cooldown()),
                });
            }
        }
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        found.push(Observed {
            key: Key::new(Kind::Scaling, service),
            id: id.clone(),
            name: id.clone(),
            state: plan::State::Scaling(State {
                min: t.min_capacity(),
                max: t.max_capacity(),
                policies,
            }),
        });
    }
    Ok(found)
}

/// RegisterScalableTarget creates or updates. Tags go only with the first registration: AWS
/// refuses them for a target that exists ("use the TagResource API"), which is also what a
/// retry after a lost reply meets.
async fn register(
    aws: &Aws,
    resource_id: &str,
    min: i32,
    max: i32,
    tag: Option<(&Names, &Key)>,
) -> Result<(), AwsError> {
    let tags = tag.map(|(names, key)| {
        names
            .tags(&key.0, resource_id)
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    });
    let send = |tags: Option<std::collections::HashMap<String, String>>| async move {
        aws.scaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .min_capacity(min)
            .max_capacity(max)
            .set_tags(tags)
            .send()
            .await
            .ctx("register scalable target", resource_id)
    };
    // A service ECS made a moment ago may not be visible to Application Auto Scaling yet.
    let out = retry(Backoff::PROPAGATION, is_service_not_visible, || {
        send(tags.clone())
    })
    .await;
    match out {
        Err(e) if tags.is_some() && e.message.contains("already exists") => {
            send(None).await?;
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

fn is_service_not_visible(e: &AwsError) -> bool {
    e.code() == "ValidationException" && e.message.contains("doesn't exist")
}

/// PutScalingPolicy creates or updates. A target registered a moment ago may not be found yet
/// (eventual consistency, RegisterScalableTarget in the API Reference).
async fn put_policy(cx: &Cx<'_>, resource_id: &str, p: &PolicySpec) -> Result<(), AwsError> {
    let label = p.metric.label(|k| cx.id(k).ok());
    if label.is_none() && matches!(p.metric, Metric::Requests { .. }) {
        return Err(AwsError::new(
            "resolve",
            &p.name,
            "the load balancer or its target group is not created yet",
        ));
    }
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(p.metric.predefined())
        .set_resource_label(label)
        .build()
        .map_err(|e| AwsError::new("build scaling policy", &p.name, e.to_string()))?;
    let config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(f64::from(p.target))
        .predefined_metric_specification(metric)
        .scale_out_cooldown(SCALE_OUT_COOLDOWN)
        .scale_in_cooldown(SCALE_IN_COOLDOWN)
        .build()
        .map_err(|e| AwsError::new("build scaling policy", &p.name, e.to_string()))?;
    retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        cx.aws
            .scaling
            .put_scaling_policy()
            .policy_name(&p.name)
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config.clone())
            .send()
            .await
            .ctx("put scaling policy", &p.name)
    })
    .await?;
    Ok(())
}

async fn delete_policy(aws: &Aws, resource_id: &str, name: &str) -> Result<(), AwsError> {
    aws.scaling
        .delete_scaling_policy()
        .policy_name(name)
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(resource_id)
        .send()
        .await
        .ctx("delete scaling policy", name)
        .ok_if_not_found()?;
    Ok(())
}

/// One scaling activity, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    pub start: String,
    pub status: String,
    pub description: String,
    pub cause: String,
}

/// The latest `n` scaling activities of a target, newest first.
pub async fn activities(aws: &Aws, resource_id: &str, n: i32) -> Result<Vec<Activity>, AwsError> {
    let out = aws
        .scaling
        .describe_scaling_activities()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(resource_id)
        .max_results(n)
        .send()
        .await
        .ctx("describe scaling activities of", resource_id)?;
    Ok(out
        .scaling_activities()
        .iter()
        .map(|a| Activity {
            start: a.start_time().to_string(),
            status: a.status_code().as_str().into(),
            description: a.description().into(),
            cause: a.cause().into(),
        })
        .collect())
}
