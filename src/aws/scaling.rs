//! Autoscaling of an ECS service: its Application Auto Scaling scalable target (the task count,
//! between min and max) and its target-tracking policies (average CPU, requests per task).
//! The scaler owns the running count: `up` never sets it once scaling is on.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, ScalableDimension, ServiceNamespace,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{ALARMS, Cmd, Permission, SCALABLE_TARGETS, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{Ids, Key, Kind, Observed};
use crate::cost;

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
    // Application Auto Scaling's scalable targets have generated ARNs and its policies none:
    // nothing to scope by name (Service Authorization Reference, Application Auto Scaling).
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("application-autoscaling:DescribeScalableTargets", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("application-autoscaling:DescribeScalingPolicies", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("application-autoscaling:DescribeScalingActivities", Scope::Any, &[Status, Check]),
            ("application-autoscaling:RegisterScalableTarget", Scope::New("RegisteringTheStacksScalableTargets", SCALABLE_TARGETS), &[Up]),
            ("application-autoscaling:RegisterScalableTarget", Scope::TaggedArns("TheStacksScalableTargets", SCALABLE_TARGETS), &[Up]),
            ("application-autoscaling:TagResource", Scope::New("RegisteringTheStacksScalableTargets", SCALABLE_TARGETS), &[Up]),
            // A register retried after a lost reply sends the tags again, to a target that has
            // them: IAM checks the tagging before the API says "already exists".
            ("application-autoscaling:TagResource", Scope::TaggedArns("TheStacksScalableTargets", SCALABLE_TARGETS), &[Up]),
            ("application-autoscaling:PutScalingPolicy", Scope::TaggedArns("TheStacksScalableTargets", SCALABLE_TARGETS), &[Up]),
            ("application-autoscaling:DeleteScalingPolicy", Scope::TaggedArns("TheStacksScalableTargets", SCALABLE_TARGETS), &[Up, Down]),
            ("application-autoscaling:DeregisterScalableTarget", Scope::TaggedArns("TheStacksScalableTargets", SCALABLE_TARGETS), &[Up, Down]),
            // Target tracking makes and deletes its alarms on the caller's behalf, which needs
            // these (ECS Developer Guide, "IAM permissions required for Amazon ECS service
            // auto scaling").
            ("cloudwatch:PutMetricAlarm", Scope::Arns("TargetTrackingAlarms", ALARMS), &[Up]),
            ("cloudwatch:DescribeAlarms", Scope::Any, &[Up, Down]),
            ("cloudwatch:DeleteAlarms", Scope::Arns("TargetTrackingAlarms", ALARMS), &[Up, Down]),
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

    fn usage(_: &Key, spec: &Spec, _: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        alarms(spec.policies.len())
    }

    fn usage_now(_: &Key, have: &State, _: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        alarms(have.policies.len())
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

mod calls;
pub use calls::{Activity, activities, find};
use calls::{delete_policy, put_policy, register};

/// Target tracking makes and owns two CloudWatch alarms per policy, one to scale out and one
/// to scale in ("Target tracking scaling policies", Application Auto Scaling User Guide).
fn alarms(policies: usize) -> Vec<cost::Usage> {
    vec![cost::Usage::new(
        cost::Meter::AlarmMonths,
        2.0 * policies as f64,
        format!("2 alarms × {policies} target tracking policies"),
    )]
}
