//! The ECS data plane emulation at rate 0: deployments roll out, UpdateService starts new
//! ones, DeleteService drains. Duplicate creates, target groups and failing deployments in
//! `ecs_targets`.

use crate::common::{quiet, sdk, start, unique};
use aws_config::SdkConfig;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, PortMapping, Service,
};
use faultproxy::ProxyHandle;
use std::time::{Duration, Instant};

pub const ROLLOUT: Duration = Duration::from_millis(1500);

/// Whether less than half a rollout passed since `t0`: checks of what shows while a
/// deployment starts are skipped on a machine too loaded to see it.
pub fn early(t0: Instant) -> bool {
    t0.elapsed() < ROLLOUT / 2
}

/// moto itself (`STACKCTL_TEST_MOTO_DIRECT` when ./scripts/test.sh put a proxy in front).
fn moto() -> Option<String> {
    let url = crate::common::moto()?;
    let direct = std::env::var("STACKCTL_TEST_MOTO_DIRECT").ok();
    Some(direct.filter(|u| !u.is_empty()).unwrap_or(url))
}

pub async fn proxy(seed: u64) -> Option<(ProxyHandle, SdkConfig)> {
    let mut cfg = quiet(&moto()?, seed, 0.0);
    cfg.ecs_rollout = ROLLOUT;
    let proxy = start(cfg).await;
    let conf = sdk(&proxy.url(), 1).await;
    Some((proxy, conf))
}

pub async fn settle(times: u32) {
    tokio::time::sleep(ROLLOUT * times + Duration::from_millis(250)).await;
}

/// Registers a revision of the task definition `family` (container `web`, port 80).
pub async fn task_def(ecs: &aws_sdk_ecs::Client, family: &str) -> String {
    let web = ContainerDefinition::builder()
        .name("web")
        .image("nginx")
        .memory(128)
        .port_mappings(PortMapping::builder().container_port(80).build())
        .build();
    let out = ecs
        .register_task_definition()
        .family(family)
        .container_definitions(web)
        .send()
        .await
        .expect("task definition");
    out.task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string()
}

/// A cluster and task definition named `name`; returns the client and the task definition.
pub async fn cluster(conf: &SdkConfig, name: &str) -> (aws_sdk_ecs::Client, String) {
    let ecs = aws_sdk_ecs::Client::new(conf);
    ecs.create_cluster()
        .cluster_name(name)
        .send()
        .await
        .expect("cluster");
    let td = task_def(&ecs, name).await;
    (ecs, td)
}

pub fn create(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
    td: &str,
    desired: i32,
) -> aws_sdk_ecs::operation::create_service::builders::CreateServiceFluentBuilder {
    ecs.create_service()
        .cluster(name)
        .service_name(name)
        .task_definition(td)
        .desired_count(desired)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
}

pub fn breaker(rollback: bool) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(rollback)
                .build(),
        )
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .build()
}

pub async fn describe(ecs: &aws_sdk_ecs::Client, name: &str) -> Service {
    let out = ecs
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .unwrap();
    out.services()[0].clone()
}

/// (status, rolloutState, taskDefinition, running, pending) of each deployment.
pub fn deployments(s: &Service) -> Vec<(String, String, String, i32, i32)> {
    s.deployments()
        .iter()
        .map(|d| {
            (
                d.status().unwrap_or_default().to_string(),
                d.rollout_state()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                d.task_definition().unwrap_or_default().to_string(),
                d.running_count(),
                d.pending_count(),
            )
        })
        .collect()
}

pub fn state(
    status: &str,
    rollout: &str,
    td: &str,
    running: i32,
    pending: i32,
) -> (String, String, String, i32, i32) {
    (status.into(), rollout.into(), td.into(), running, pending)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_service_completes_after_the_rollout() {
    let Some((_proxy, conf)) = proxy(31).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    let t0 = Instant::now();
    let created = create(&ecs, &name, &td, 2)
        .deployment_configuration(breaker(false))
        .health_check_grace_period_seconds(30)
        .send()
        .await
        .unwrap();
    let s = created.service().unwrap();
    assert_eq!(
        deployments(s),
        vec![state("PRIMARY", "IN_PROGRESS", &td, 0, 2)]
    );
    let id = s.deployments()[0].id().unwrap().to_string();
    assert!(
        id.starts_with("ecs-svc/") && id[8..].bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );

    let s = describe(&ecs, &name).await;
    if early(t0) {
        assert_eq!(
            s.deployments()[0].rollout_state().unwrap().as_str(),
            "IN_PROGRESS"
        );
        assert!(s.running_count() < 2);
    }
    let dc = s
        .deployment_configuration()
        .expect("deploymentConfiguration kept");
    assert_eq!(
        dc.deployment_circuit_breaker()
            .map(|b| (b.enable(), b.rollback())),
        Some((true, false))
    );
    assert_eq!(dc.maximum_percent(), Some(200));
    assert_eq!(s.health_check_grace_period_seconds(), Some(30));
    assert_eq!(s.launch_type().map(|l| l.as_str()), Some("FARGATE"));

    settle(1).await;
    let s = describe(&ecs, &name).await;
    assert_eq!(
        deployments(&s),
        vec![state("PRIMARY", "COMPLETED", &td, 2, 0)]
    );
    assert_eq!(s.deployments()[0].id(), Some(id.as_str()));
    assert_eq!(
        (s.running_count(), s.pending_count(), s.desired_count()),
        (2, 0, 2)
    );
    assert_eq!(s.task_definition(), Some(td.as_str()));
    assert!(
        s.events()
            .iter()
            .any(|e| e.message().unwrap().contains("has reached a steady state"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_task_definition_rolls_out_a_new_deployment() {
    let Some((_proxy, conf)) = proxy(32).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td1) = cluster(&conf, &name).await;
    create(&ecs, &name, &td1, 2).send().await.unwrap();
    settle(1).await;
    let td2 = task_def(&ecs, &name).await;
    // The family alone: ECS takes its latest revision.
    let t0 = Instant::now();
    let updated = ecs
        .update_service()
        .cluster(&name)
        .service(&name)
        .task_definition(&name)
        .send()
        .await
        .unwrap();
    let s = updated.service().unwrap();
    let new_id = s.deployments()[0].id().unwrap().to_string();
    let both = vec![
        state("PRIMARY", "IN_PROGRESS", &td2, 0, 2),
        state("ACTIVE", "COMPLETED", &td1, 2, 0),
    ];
    assert_eq!(deployments(s), both);
    assert_eq!(s.task_definition(), Some(td2.as_str()));

    let s = describe(&ecs, &name).await;
    if early(t0) {
        let now = deployments(&s);
        assert_eq!(now.len(), 2, "{now:?}");
        assert_eq!((&now[0].2, &now[1].2, now[1].3), (&td2, &td1, 2));
        assert_eq!(s.deployments()[0].id(), Some(new_id.as_str()));
    }
    assert_eq!(s.task_definition(), Some(td2.as_str()));

    settle(1).await;
    let s = describe(&ecs, &name).await;
    assert_eq!(
        deployments(&s),
        vec![state("PRIMARY", "COMPLETED", &td2, 2, 0)]
    );
    assert_eq!(s.deployments()[0].id(), Some(new_id.as_str()));

    // Forcing a new deployment of the same task definition: a new id, the same ARN.
    let forced = ecs
        .update_service()
        .cluster(&name)
        .service(&name)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let s = forced.service().unwrap();
    assert_eq!(s.deployments().len(), 2);
    assert_ne!(s.deployments()[0].id(), Some(new_id.as_str()));
    assert_eq!(s.deployments()[0].task_definition(), Some(td2.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_only_the_desired_count_starts_no_deployment() {
    let Some((_proxy, conf)) = proxy(33).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    create(&ecs, &name, &td, 2).send().await.unwrap();
    settle(1).await;
    let id = describe(&ecs, &name).await.deployments()[0]
        .id()
        .unwrap()
        .to_string();
    ecs.update_service()
        .cluster(&name)
        .service(&name)
        .desired_count(4)
        .send()
        .await
        .unwrap();
    let s = describe(&ecs, &name).await;
    assert_eq!(s.deployments().len(), 1);
    assert_eq!(s.deployments()[0].id(), Some(id.as_str()));
    assert_eq!(
        s.deployments()[0].rollout_state().unwrap().as_str(),
        "COMPLETED"
    );
    assert_eq!(
        (s.desired_count(), s.deployments()[0].desired_count()),
        (4, 4)
    );
    settle(1).await;
    let s = describe(&ecs, &name).await;
    assert_eq!(
        deployments(&s),
        vec![state("PRIMARY", "COMPLETED", &td, 4, 0)]
    );
    assert_eq!(s.deployments()[0].id(), Some(id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_service_drains_then_is_inactive_and_unlisted() {
    let Some((_proxy, conf)) = proxy(34).await else {
        return;
    };
    let name = unique("fp-emu");
    let (ecs, td) = cluster(&conf, &name).await;
    create(&ecs, &name, &td, 1).send().await.unwrap();
    let arn = describe(&ecs, &name)
        .await
        .service_arn()
        .unwrap()
        .to_string();
    let deleted = ecs
        .delete_service()
        .cluster(&name)
        .service(&name)
        .force(true)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.service().unwrap().status(), Some("DRAINING"));
    assert_eq!(describe(&ecs, &name).await.status(), Some("DRAINING"));
    let listed = ecs.list_services().cluster(&name).send().await.unwrap();
    assert_eq!(listed.service_arns(), std::slice::from_ref(&arn));
    let e = create(&ecs, &name, &td, 1).send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Unable to Start a service that is still Draining.")
    );
    // Deleting it again (a retried delete) answers with the draining service.
    let again = ecs
        .delete_service()
        .cluster(&name)
        .service(&name)
        .force(true)
        .send()
        .await
        .unwrap();
    assert_eq!(again.service().unwrap().status(), Some("DRAINING"));
    let e = ecs
        .update_service()
        .cluster(&name)
        .service(&name)
        .desired_count(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ServiceNotActiveException"), "{e:?}");

    settle(1).await;
    let s = describe(&ecs, &name).await;
    assert_eq!((s.status(), s.running_count()), (Some("INACTIVE"), 0));
    let listed = ecs.list_services().cluster(&name).send().await.unwrap();
    assert!(listed.service_arns().is_empty(), "{listed:?}");
    // Once INACTIVE the name is free again.
    let again = create(&ecs, &name, &td, 1).send().await.unwrap();
    assert_eq!(again.service().unwrap().status(), Some("ACTIVE"));
    assert_eq!(
        ecs.list_services()
            .cluster(&name)
            .send()
            .await
            .unwrap()
            .service_arns(),
        [arn]
    );
}
