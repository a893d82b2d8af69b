//! What the strategy tests set up and read: a load balancer with two target groups, the
//! production rule's weights, the newest service deployment.

use crate::common::{quiet, sdk, start};
use crate::ecs_emulation::ROLLOUT;
use aws_config::SdkConfig;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentConfiguration, DeploymentStrategy, LoadBalancer,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, ProtocolEnum, TargetGroupTuple,
    TargetHealthStateEnum as Th,
};
use faultproxy::ProxyHandle;
use std::time::{Duration, Instant};

/// A strategy minute here.
const MINUTE: Duration = Duration::from_millis(1000);

pub async fn proxy(seed: u64) -> Option<(ProxyHandle, SdkConfig)> {
    let moto = std::env::var("STACKCTL_TEST_MOTO_DIRECT")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(crate::common::moto)?;
    let mut cfg = quiet(&moto, seed, 0.0);
    cfg.ecs_rollout = ROLLOUT;
    cfg.ecs_minute = MINUTE;
    let proxy = start(cfg).await;
    let conf = sdk(&proxy.url(), 1).await;
    Some((proxy, conf))
}

/// Two target groups behind a load balancer whose listener forwards to `a` (weight 100) and,
/// when `both`, to `b` (weight 0). Returns (a, b, the listener's default rule).
pub async fn balancer(conf: &SdkConfig, name: &str, both: bool) -> (String, String, String) {
    let (vpc, subnets) = crate::common::network(conf, 45).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let short = &name[name.len().saturating_sub(30)..];
    let mut groups = Vec::new();
    for side in ["a", "b"] {
        let name = format!("{short}{side}");
        groups.push(crate::common::target_group(conf, &name, &vpc).await);
    }
    let lb = crate::common::load_balancer(conf, short, subnets).await;
    let tuple = |g: &str, w| {
        TargetGroupTuple::builder()
            .target_group_arn(g)
            .weight(w)
            .build()
    };
    let mut tuples = vec![tuple(&groups[0], 100)];
    if both {
        tuples.push(tuple(&groups[1], 0));
    }
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .set_target_groups(Some(tuples))
                .build(),
        )
        .build();
    let listener = elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward)
        .send()
        .await
        .unwrap();
    let listener = listener.listeners()[0].listener_arn().unwrap().to_string();
    let rules = elb
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .unwrap();
    let default = rules.rules().iter().find(|r| r.is_default() == Some(true));
    let rule = default.unwrap().rule_arn().unwrap().to_string();
    (groups[0].clone(), groups[1].clone(), rule)
}

/// The production rule's weight of `a` and of `b`.
pub async fn weights(conf: &SdkConfig, rule: &str, a: &str, b: &str) -> (i32, i32) {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let out = elb.describe_rules().rule_arns(rule).send().await.unwrap();
    let tuples: Vec<(String, i32)> = out.rules()[0]
        .actions()
        .iter()
        .filter_map(|x| x.forward_config())
        .flat_map(|f| f.target_groups())
        .map(|t| {
            (
                t.target_group_arn().unwrap_or_default().into(),
                t.weight().unwrap_or(1),
            )
        })
        .collect();
    let of = |g: &str| tuples.iter().find(|t| t.0 == g).map_or(0, |t| t.1);
    let (wa, wb) = (of(a), of(b));
    // Relative weights, as percents.
    let total = (wa + wb).max(1);
    (wa * 100 / total, wb * 100 / total)
}

/// The healthy targets of `tg`.
pub async fn healthy(conf: &SdkConfig, tg: &str) -> usize {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let out = elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap();
    out.target_health_descriptions()
        .iter()
        .filter(|t| t.target_health().and_then(|h| h.state()) == Some(&Th::Healthy))
        .count()
}

pub fn lb(a: &str, b: &str, rule: &str) -> LoadBalancer {
    let advanced = AdvancedConfiguration::builder()
        .alternate_target_group_arn(b)
        .production_listener_rule(rule)
        .role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers")
        .build();
    LoadBalancer::builder()
        .target_group_arn(a)
        .container_name("web")
        .container_port(80)
        .advanced_configuration(advanced)
        .build()
}

pub fn blue_green(bake: i32) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .bake_time_in_minutes(bake)
        .build()
}

/// The (status, lifecycleStage) of the service's newest deployment.
pub async fn newest(ecs: &aws_sdk_ecs::Client, name: &str) -> (String, String, String) {
    let list = ecs
        .list_service_deployments()
        .cluster(name)
        .service(name)
        .send()
        .await
        .unwrap();
    let mut all = list.service_deployments().to_vec();
    all.sort_by(|x, y| y.created_at().cmp(&x.created_at()));
    let arn = all[0].service_deployment_arn().unwrap().to_string();
    let out = ecs
        .describe_service_deployments()
        .service_deployment_arns(&arn)
        .send()
        .await
        .unwrap();
    let d = &out.service_deployments()[0];
    (
        arn,
        d.status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        d.lifecycle_stage()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    )
}

/// Samples (stage, weights) until the newest deployment is no longer IN_PROGRESS.
pub async fn follow(
    ecs: &aws_sdk_ecs::Client,
    conf: &SdkConfig,
    name: &str,
    (a, b, rule): (&str, &str, &str),
) -> (String, Vec<(String, (i32, i32))>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<(String, (i32, i32))> = Vec::new();
    loop {
        let (_, status, stage) = newest(ecs, name).await;
        let w = weights(conf, rule, a, b).await;
        if seen.last() != Some(&(stage.clone(), w)) {
            seen.push((stage, w));
        }
        if status != "IN_PROGRESS" || Instant::now() > deadline {
            return (status, seen);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Registers a new revision of `name`'s task definition and deploys it.
pub async fn release(ecs: &aws_sdk_ecs::Client, name: &str) {
    let td = crate::ecs_emulation::task_def(ecs, name).await;
    ecs.update_service()
        .cluster(name)
        .service(name)
        .task_definition(&td)
        .send()
        .await
        .unwrap();
}
