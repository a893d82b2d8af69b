//! Target groups, one per public service: `ip` targets (awsvpc tasks), a fast health check
//! on the service's path, a short deregistration delay so rollouts do not wait minutes.

use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroupAttribute, TargetTypeEnum,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, Permission, Scope, TARGET_GROUPS};
use super::retry::delete_draining;
use super::{Aws, AwsError, Ctx, elb};
use crate::names::Names;
use crate::plan::{self, HealthCheck, Ids, Key, Kind, Observed};

/// The public service's target group: tasks registered by IP, health-checked over HTTP.
pub struct TargetGroup;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub vpc: Key,
    pub port: i32,
    pub health: HealthCheck,
    pub deregistration_delay: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub vpc_id: String,
    pub port: i32,
    pub target_type: String,
    pub health: HealthCheck,
    pub deregistration_delay: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetHealthCheck { health: HealthCheck },
    SetDeregistrationDelay { seconds: i32 },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetHealthCheck { health } => {
                write!(f, "health check {} every {}s", health.path, health.interval)
            }
            Fix::SetDeregistrationDelay { seconds } => write!(f, "deregistration delay {seconds}s"),
        }
    }
}

impl Resource for TargetGroup {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("elasticloadbalancing:DescribeTargetGroups", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("elasticloadbalancing:DescribeTargetGroupAttributes", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("elasticloadbalancing:CreateTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
            ("elasticloadbalancing:ModifyTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
            ("elasticloadbalancing:ModifyTargetGroupAttributes", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
            ("elasticloadbalancing:DeleteTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.vpc.clone()]
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Vpc
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let moved = ids.get(&want.vpc).is_some_and(|v| v != &have.vpc_id);
        if want.port != have.port || have.target_type != TARGET_TYPE.as_str() || moved {
            return Err(format!(
                "target group is {}:{} in {}; wanted ip:{}: run `stackctl down` first",
                have.target_type, have.port, have.vpc_id, want.port
            ));
        }
        let mut fixes = Vec::new();
        if want.health != have.health {
            fixes.push(Fix::SetHealthCheck {
                health: want.health.clone(),
            });
        }
        if have.deregistration_delay != Some(want.deregistration_delay) {
            fixes.push(Fix::SetDeregistrationDelay {
                seconds: want.deregistration_delay,
            });
        }
        Ok(fixes)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "protocol": PROTOCOL.as_str(),
            "target_type": TARGET_TYPE.as_str(),
            "health_check_protocol": PROTOCOL.as_str(),
            "healthy_http_codes": HEALTHY_CODES,
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            vpc_id: id(&spec.vpc),
            port: spec.port,
            target_type: TARGET_TYPE.as_str().into(),
            health: spec.health.clone(),
            deregistration_delay: Some(spec.deregistration_delay),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let vpc = cx.id(&spec.vpc)?;
        let (port, health, delay) = (spec.port, &spec.health, spec.deregistration_delay);
        create(cx.aws, cx.names, key, name, &vpc, port, health, delay).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetHealthCheck { health } => set_health_check(cx.aws, &have.id, health).await,
            Fix::SetDeregistrationDelay { seconds } => {
                set_deregistration_delay(cx.aws, &have.id, *seconds).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";
/// HTTP to the tasks' IP addresses (awsvpc), healthy on 200 only.
pub const PROTOCOL: ProtocolEnum = ProtocolEnum::Http;
pub const TARGET_TYPE: TargetTypeEnum = TargetTypeEnum::Ip;
pub const HEALTHY_CODES: &str = "200";

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.target_group("");
    let mut groups = Vec::new();
    let mut pages = aws.elb.describe_target_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("describe", "target groups")?;
        groups.extend(
            page.target_groups()
                .iter()
                .filter(|g| {
                    g.target_group_name()
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .cloned(),
        );
    }
    let arns: Vec<String> = groups
        .iter()
        .filter_map(|g| g.target_group_arn().map(str::to_string))
        .collect();
    let owned = elb::owned(aws, names, &arns).await?;
    let mut found = Vec::new();
    for g in &groups {
        let Some(arn) = g.target_group_arn() else {
            continue;
        };
        let Some((_, key)) = owned.iter().find(|(a, _)| a == arn) else {
            continue;
        };
        let attrs = aws
            .elb
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .ctx("describe attributes of target group", arn);
        // Deleted since it was listed: gone.
        let attrs = match attrs {
            Err(e) if e.is_not_found() => continue,
            other => other?,
        };
        let delay = attrs
            .attributes()
            .iter()
            .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
            .and_then(|a| a.value())
            .and_then(|v| v.parse().ok());
        found.push(Observed {
            key: Key(key.clone()),
            id: arn.into(),
            name: g.target_group_name().unwrap_or_default().into(),
            state: plan::State::TargetGroup(State {
                vpc_id: g.vpc_id().unwrap_or_default().into(),
                port: g.port().unwrap_or_default(),
                target_type: g
                    .target_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                health: HealthCheck {
                    path: g.health_check_path().unwrap_or_default().into(),
                    interval: g.health_check_interval_seconds().unwrap_or_default(),
                    timeout: g.health_check_timeout_seconds().unwrap_or_default(),
                    healthy: g.healthy_threshold_count().unwrap_or_default(),
                    unhealthy: g.unhealthy_threshold_count().unwrap_or_default(),
                },
                deregistration_delay: delay,
            }),
        });
    }
    Ok(found)
}

#[allow(clippy::too_many_arguments)] // each is one field of the CreateTargetGroup call
pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    vpc_id: &str,
    port: i32,
    health: &HealthCheck,
    delay: i32,
) -> Result<String, AwsError> {
    let out = aws
        .elb
        .create_target_group()
        .name(name)
        .protocol(PROTOCOL)
        .port(port)
        .vpc_id(vpc_id)
        .target_type(TARGET_TYPE)
        .health_check_protocol(PROTOCOL)
        .health_check_path(&health.path)
        .health_check_interval_seconds(health.interval)
        .health_check_timeout_seconds(health.timeout)
        .healthy_threshold_count(health.healthy)
        .unhealthy_threshold_count(health.unhealthy)
        .matcher(Matcher::builder().http_code(HEALTHY_CODES).build())
        .set_tags(Some(super::tags(names, &key.0, name)?))
        .send()
        .await
        .ctx("create target group", name);
    let arn = match out {
        Ok(out) => out
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .map(str::to_string),
        // A retried create whose first reply was lost: the name is ours, take that group.
        Err(e) if e.is_already_exists() => {
            let found = aws
                .elb
                .describe_target_groups()
                .names(name)
                .send()
                .await
                .ctx("describe target group", name)?;
            found
                .target_groups()
                .first()
                .and_then(|g| g.target_group_arn())
                .map(str::to_string)
        }
        Err(e) => return Err(e),
    };
    let arn =
        arn.ok_or_else(|| AwsError::new("create target group", name, "no ARN in response"))?;
    // CreateTargetGroup with the name of an existing group and the same settings returns that
    // group and applies none of the tags given (ELB API reference, CreateTargetGroup): tag it
    // here, or `up` and `down` would never see it as the stack's.
    aws.elb
        .add_tags()
        .resource_arns(&arn)
        .set_tags(Some(super::tags(names, &key.0, name)?))
        .send()
        .await
        .ctx("tag target group", name)?;
    set_deregistration_delay(aws, &arn, delay).await?;
    Ok(arn)
}

pub async fn set_health_check(aws: &Aws, arn: &str, health: &HealthCheck) -> Result<(), AwsError> {
    aws.elb
        .modify_target_group()
        .target_group_arn(arn)
        .health_check_path(&health.path)
        .health_check_interval_seconds(health.interval)
        .health_check_timeout_seconds(health.timeout)
        .healthy_threshold_count(health.healthy)
        .unhealthy_threshold_count(health.unhealthy)
        .send()
        .await
        .ctx("set health check of target group", arn)?;
    Ok(())
}

pub async fn set_deregistration_delay(aws: &Aws, arn: &str, seconds: i32) -> Result<(), AwsError> {
    let attr = TargetGroupAttribute::builder()
        .key(DEREGISTRATION_DELAY)
        .value(seconds.to_string())
        .build();
    aws.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(attr)
        .send()
        .await
        .ctx("set deregistration delay of target group", arn)?;
    Ok(())
}

/// `ResourceInUse` until the listener and the ECS service let go of it.
pub async fn delete(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.elb
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .ctx("delete target group", arn)
    })
    .await
}

/// Target health of a group: `(healthy, total, reasons of the others)`.
pub async fn health(aws: &Aws, arn: &str) -> Result<(usize, usize, Vec<String>), AwsError> {
    let out = aws
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .ctx("describe target health of", arn)?;
    let all = out.target_health_descriptions();
    let state = |d: &aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription| {
        d.target_health()
            .and_then(|h| h.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    let healthy = all.iter().filter(|d| state(d) == "healthy").count();
    let reasons = all
        .iter()
        .filter(|d| state(d) != "healthy")
        .map(|d| {
            let target = d.target().and_then(|t| t.id()).unwrap_or("?");
            let why = d
                .target_health()
                .and_then(|h| h.description().or(h.reason().map(|r| r.as_str())))
                .unwrap_or("");
            format!("{target} {}: {why}", state(d))
        })
        .collect();
    Ok((healthy, all.len(), reasons))
}
