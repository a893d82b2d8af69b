//! Application Auto Scaling's calls: finding the stack's targets and policies, registering,
//! putting and deleting, and the latest activities.

use aws_sdk_applicationautoscaling::types::{
    PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;

use super::{Metric, Policy, PolicySpec, SCALE_IN_COOLDOWN, SCALE_OUT_COOLDOWN, State};
use crate::aws::kind::Cx;
use crate::aws::retry::{Backoff, retry};
use crate::aws::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Key, Kind, Observed};

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
pub(super) async fn register(
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

pub(super) fn is_service_not_visible(e: &AwsError) -> bool {
    e.code() == "ValidationException" && e.message.contains("doesn't exist")
}

/// PutScalingPolicy creates or updates. A target registered a moment ago may not be found yet
/// (eventual consistency, RegisterScalableTarget in the API Reference).
pub(super) async fn put_policy(cx: &Cx<'_>, resource_id: &str, p: &PolicySpec) -> Result<(), AwsError> {
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

pub(super) async fn delete_policy(aws: &Aws, resource_id: &str, name: &str) -> Result<(), AwsError> {
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
