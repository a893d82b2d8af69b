//! ECS's own deployment strategies in the emulation: a blue/green deployment registers its
//! tasks in the group production is not on, moves the production rule's weights once they are
//! healthy and keeps the old tasks through the bake time; a canary stops at its percent; a
//! stop request puts production back at once; a rule that does not forward to both groups
//! rolls the deployment back; and what ECS refuses of the request.

use crate::common::unique;
use crate::ecs_emulation::{cluster, create};
use crate::ecs_strategy_setup::{
    balancer, blue_green, follow, healthy, lb, newest, proxy, release, weights,
};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentConfiguration, DeploymentStrategy, LoadBalancer,
    StopServiceDeploymentStopType,
};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_moves_production_once_the_new_tasks_are_healthy() {
    let Some((_proxy, conf)) = proxy(61).await else {
        return;
    };
    let name = unique("fp-bg");
    let (ecs, td) = cluster(&conf, &name).await;
    let (a, b, rule) = balancer(&conf, &name, true).await;
    create(&ecs, &name, &td, 2)
        .load_balancers(lb(&a, &b, &rule))
        .deployment_configuration(blue_green(1))
        .send()
        .await
        .unwrap();
    let groups = (a.as_str(), b.as_str(), rule.as_str());
    // The first deployment goes to the alternate group and takes all the traffic.
    let (status, _) = follow(&ecs, &conf, &name, groups).await;
    assert_eq!(status, "SUCCESSFUL");
    assert_eq!(weights(&conf, &rule, &a, &b).await, (0, 100));
    assert_eq!((healthy(&conf, &a).await, healthy(&conf, &b).await), (0, 2));

    release(&ecs, &name).await;
    let (status, seen) = follow(&ecs, &conf, &name, groups).await;
    assert_eq!(status, "SUCCESSFUL", "{seen:?}");
    let stages: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    let first = |s: &str| seen.iter().find(|x| x.0 == s).map(|x| x.1);
    assert_eq!(first("SCALE_UP"), Some((0, 100)), "{seen:?}");
    assert_eq!(first("BAKE_TIME"), Some((100, 0)), "{seen:?}");
    let order = ["SCALE_UP", "BAKE_TIME", "CLEAN_UP"];
    let at: Vec<usize> = order
        .iter()
        .filter_map(|s| stages.iter().position(|x| x == s))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!((healthy(&conf, &a).await, healthy(&conf, &b).await), (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_stops_at_its_percent_and_a_stop_puts_production_back() {
    let Some((_proxy, conf)) = proxy(62).await else {
        return;
    };
    let name = unique("fp-canary");
    let (ecs, td) = cluster(&conf, &name).await;
    let (a, b, rule) = balancer(&conf, &name, true).await;
    let canary = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::Canary)
        .bake_time_in_minutes(1)
        .canary_configuration(
            CanaryConfiguration::builder()
                .canary_percent(20.0)
                .canary_bake_time_in_minutes(30)
                .build(),
        )
        .build();
    create(&ecs, &name, &td, 2)
        .load_balancers(lb(&a, &b, &rule))
        .deployment_configuration(canary)
        .send()
        .await
        .unwrap();
    let groups = (a.as_str(), b.as_str(), rule.as_str());
    assert_eq!(follow(&ecs, &conf, &name, groups).await.0, "SUCCESSFUL");
    release(&ecs, &name).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while weights(&conf, &rule, &a, &b).await != (20, 80) {
        assert!(Instant::now() < deadline, "the canary never got 20%");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (arn, status, stage) = newest(&ecs, &name).await;
    assert_eq!(
        (status.as_str(), stage.as_str()),
        ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
    );
    ecs.stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .unwrap();
    // The old tasks never stopped: production is back on them at once.
    assert_eq!(weights(&conf, &rule, &a, &b).await, (0, 100));
    let (_, status, _) = newest(&ecs, &name).await;
    assert_eq!(status, "ROLLBACK_SUCCESSFUL");
    let again = ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("ConflictException"));
    let unknown = ecs
        .stop_service_deployment()
        .service_deployment_arn(format!("{arn}x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("ServiceDeploymentNotFoundException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_forwarding_to_one_group_rolls_the_deployment_back() {
    let Some((_proxy, conf)) = proxy(63).await else {
        return;
    };
    let name = unique("fp-bg1");
    let (ecs, td) = cluster(&conf, &name).await;
    let (a, b, rule) = balancer(&conf, &name, false).await;
    create(&ecs, &name, &td, 1)
        .load_balancers(lb(&a, &b, &rule))
        .deployment_configuration(blue_green(0))
        .send()
        .await
        .unwrap();
    let groups = (a.as_str(), b.as_str(), rule.as_str());
    let (status, _) = follow(&ecs, &conf, &name, groups).await;
    assert_eq!(status, "STOPPED");
    let (arn, _, _) = newest(&ecs, &name).await;
    let out = ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .unwrap();
    let reason = out.service_deployments()[0]
        .status_reason()
        .unwrap_or_default();
    assert!(
        reason.contains("Both targetGroup and alternateTargetGroup"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_ecs_refuses_of_a_strategy() {
    let Some((_proxy, conf)) = proxy(64).await else {
        return;
    };
    let name = unique("fp-bgno");
    let (ecs, td) = cluster(&conf, &name).await;
    let (a, b, rule) = balancer(&conf, &name, true).await;
    let no_bake = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .build();
    let breaker = crate::ecs_emulation::breaker(true);
    let with_breaker = DeploymentConfiguration::builder()
        .set_deployment_circuit_breaker(breaker.deployment_circuit_breaker().cloned())
        .strategy(DeploymentStrategy::BlueGreen)
        .bake_time_in_minutes(1)
        .build();
    let plain = LoadBalancer::builder()
        .target_group_arn(&a)
        .container_name("web")
        .container_port(80)
        .build();
    let cases = [
        (no_bake, lb(&a, &b, &rule), "bakeTimeInMinutes"),
        (with_breaker, lb(&a, &b, &rule), "circuit breaker"),
        (blue_green(1), plain, "advancedConfiguration"),
    ];
    for (config, lb, why) in cases {
        let err = create(&ecs, &name, &td, 1)
            .load_balancers(lb)
            .deployment_configuration(config)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidParameterException"));
        assert!(err.message().unwrap_or_default().contains(why), "{err:?}");
    }
}
