//! The ECS data plane emulation: duplicate creates refused, a service's tasks as targets of
//! its target groups, a failing deployment rolled back by the circuit breaker, and a cluster
//! that cannot be deleted while its tasks stop.

use crate::common::unique;
use crate::ecs_emulation::{
    ROLLOUT, breaker, cluster, create, deployments, describe, early, proxy, settle, state, task_def,
};
use aws_config::SdkConfig;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::LoadBalancer;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum as Th;
use std::time::{Duration, Instant};

/// A VPC and an `ip` target group in it, through `conf`.
/// A target group behind a load balancer's listener: ECS refuses one that is not attached
/// to a load balancer ("does not have an associated load balancer").
async fn target_group(conf: &SdkConfig, name: &str) -> String {
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
    let (vpc, subnets) = crate::common::network(conf, 44).await;
    let vpc = vpc.as_str();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let short = &name[name.len().saturating_sub(32)..];
    let tg = crate::common::target_group(conf, short, vpc).await;
    let lb = crate::common::load_balancer(conf, short, subnets).await;
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(&tg)
        .build();
    elb.create_listener()
        .load_balancer_arn(lb)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward)
        .send()
        .await
        .unwrap();
    tg
}

/// (id, port, state, reason) of each target.
async fn targets(conf: &SdkConfig, tg: &str) -> Vec<(String, i32, Th, Option<String>)> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let out = elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap();
    out.target_health_descriptions()
        .iter()
        .map(|t| {
            let (target, health) = (t.target().unwrap(), t.target_health().unwrap());
            (
                target.id().unwrap().to_string(),
                target.port().unwrap_or_default(),
                health.state().unwrap().clone(),
                health.reason().map(|r| r.as_str().to_string()),
            )
        })
        .collect()
}

fn states(t: &[(String, i32, Th, Option<String>)]) -> Vec<&Th> {
    t.iter().map(|t| &t.2).collect()
}

fn lb(tg: &str) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn(tg)
        .container_name("web")
        .container_port(80)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_groups_get_the_service_tasks_as_targets() {
    let Some((_proxy, conf)) = proxy(36).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    let tg = target_group(&conf, &name).await;
    let idle = target_group(&conf, &unique("fp-idle")).await;
    let t0 = Instant::now();
    create(&ecs, &name, &td, 2)
        .load_balancers(lb(&tg))
        .send()
        .await
        .unwrap();
    // Tasks start (and register) during the first half of the rollout.
    let mut first = Vec::new();
    while first.is_empty() && t0.elapsed() < ROLLOUT {
        tokio::time::sleep(Duration::from_millis(50)).await;
        first = targets(&conf, &tg).await;
    }
    let checked = early(t0);
    assert!(!first.is_empty() && first.len() <= 2, "{first:?}");
    for (id, port, state, reason) in &first {
        assert!(id.starts_with("10.0.") && *port == 80, "{id}:{port}");
        if checked {
            assert_eq!(
                (state, reason.as_deref()),
                (&Th::Initial, Some("Elb.RegistrationInProgress"))
            );
        }
    }
    settle(1).await;
    let ready = targets(&conf, &tg).await;
    assert_eq!(states(&ready), [&Th::Healthy, &Th::Healthy]);
    assert_ne!(ready[0].0, ready[1].0);
    assert!(targets(&conf, &idle).await.is_empty());

    // A target really registered (a test's own container): moto's answer stands.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let real = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
        .id("10.44.0.9")
        .port(8080)
        .build();
    elb.register_targets()
        .target_group_arn(&tg)
        .targets(real)
        .send()
        .await
        .unwrap();
    let t = targets(&conf, &tg).await;
    assert_eq!((t.len(), &t[0].0[..], t[0].1), (1, "10.44.0.9", 8080));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_deployment_rolls_back_with_the_circuit_breaker() {
    let Some((proxy, conf)) = proxy(37).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td1) = cluster(&conf, &name).await;
    let tg = target_group(&conf, &name).await;
    create(&ecs, &name, &td1, 2)
        .deployment_configuration(breaker(true))
        .load_balancers(lb(&tg))
        .send()
        .await
        .unwrap();
    settle(1).await;
    let old_id = describe(&ecs, &name).await.deployments()[0]
        .id()
        .unwrap()
        .to_string();
    proxy.fail_deployments(&name, "CannotPullContainerError: pull access denied");
    let td2 = task_def(&ecs, &name).await;
    let updated = ecs
        .update_service()
        .cluster(&name)
        .service(&name)
        .task_definition(&td2)
        .send()
        .await
        .unwrap();
    let d = &updated.service().unwrap().deployments()[0];
    assert_eq!(
        (d.task_definition(), d.rollout_state().unwrap().as_str()),
        (Some(td2.as_str()), "IN_PROGRESS")
    );
    let new_id = d.id().unwrap().to_string();

    let s = describe(&ecs, &name).await;
    let now = deployments(&s);
    assert_eq!(
        now,
        vec![
            state("PRIMARY", "COMPLETED", &td1, 2, 0),
            state("ACTIVE", "FAILED", &td2, 0, 0)
        ]
    );
    assert_eq!(s.deployments()[0].id(), Some(old_id.as_str()));
    assert_eq!(s.deployments()[1].id(), Some(new_id.as_str()));
    assert_eq!(s.deployments()[1].failed_tasks(), 2);
    assert!(
        s.deployments()[1]
            .rollout_state_reason()
            .unwrap()
            .contains("circuit breaker")
    );
    assert_eq!(
        (s.task_definition(), s.running_count()),
        (Some(td1.as_str()), 2)
    );
    let messages: Vec<&str> = s.events().iter().filter_map(|e| e.message()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains(&format!("rolling back to {td1}"))),
        "{messages:?}"
    );
    let t = targets(&conf, &tg).await;
    assert_eq!(
        states(&t),
        [&Th::Healthy, &Th::Healthy, &Th::Unhealthy, &Th::Unhealthy]
    );
    assert_eq!(t[2].3.as_deref(), Some("Target.FailedHealthChecks"));

    settle(2).await;
    let s = describe(&ecs, &name).await;
    assert_eq!(
        deployments(&s),
        vec![state("PRIMARY", "COMPLETED", &td1, 2, 0)]
    );
    assert_eq!(
        states(&targets(&conf, &tg).await),
        [&Th::Healthy, &Th::Healthy]
    );

    // Without rollback the failed deployment stays PRIMARY and FAILED, the old tasks run on.
    proxy.clear_deployment_failures();
    ecs.update_service()
        .cluster(&name)
        .service(&name)
        .deployment_configuration(breaker(false))
        .send()
        .await
        .unwrap();
    proxy.fail_deployments(&name, "Essential container in task exited");
    ecs.update_service()
        .cluster(&name)
        .service(&name)
        .task_definition(&td2)
        .send()
        .await
        .unwrap();
    settle(1).await;
    let s = describe(&ecs, &name).await;
    let now = deployments(&s);
    assert_eq!(
        now,
        vec![
            state("PRIMARY", "FAILED", &td2, 0, 0),
            state("ACTIVE", "COMPLETED", &td1, 2, 0)
        ]
    );
    assert_eq!(s.running_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_service_is_refused_unless_it_is_a_retry() {
    let Some((_proxy, conf)) = proxy(35).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    create(&ecs, &name, &td, 1)
        .client_token("tok-1")
        .send()
        .await
        .unwrap();
    let id = describe(&ecs, &name).await.deployments()[0]
        .id()
        .unwrap()
        .to_string();
    let e = create(&ecs, &name, &td, 3).send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    assert_eq!(e.message(), Some("Creation of service was not idempotent."));
    let e = create(&ecs, &name, &td, 1)
        .client_token("tok-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"));
    // The same client token: an idempotent retry, same service, same deployment.
    let retry = create(&ecs, &name, &td, 1)
        .client_token("tok-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        retry.service().unwrap().deployments()[0].id(),
        Some(id.as_str())
    );
    // The same service name in another cluster is another service.
    let other = unique("fp-emu");
    ecs.create_cluster()
        .cluster_name(&other)
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster(&other)
        .service_name(&name)
        .task_definition(&td)
        .desired_count(1)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_is_deleted_only_once_its_services_tasks_have_stopped() {
    let Some((_proxy, conf)) = proxy(35).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    create(&ecs, &name, &td, 1).send().await.unwrap();
    let delete_cluster = || ecs.delete_cluster().cluster(&name).send();
    let e = delete_cluster().await.unwrap_err();
    assert_eq!(e.code(), Some("ClusterContainsServicesException"), "{e:?}");
    ecs.delete_service()
        .cluster(&name)
        .service(&name)
        .force(true)
        .send()
        .await
        .unwrap();
    let e = delete_cluster().await.unwrap_err();
    assert_eq!(e.code(), Some("ClusterContainsTasksException"), "{e:?}");
    // INACTIVE, yet its tasks are still stopping for a while.
    settle(1).await;
    assert_eq!(describe(&ecs, &name).await.status(), Some("INACTIVE"));
    let e = delete_cluster().await.unwrap_err();
    assert_eq!(e.code(), Some("ClusterContainsTasksException"), "{e:?}");
    settle(1).await;
    delete_cluster()
        .await
        .expect("the cluster is free once its tasks stopped");
}
