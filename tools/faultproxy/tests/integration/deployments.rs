//! The hook for failing ECS deployments: DescribeServices, ListTasks and DescribeTasks as a
//! rollout watcher sees them.

use crate::common::{quiet, sdk, start, unique};
use crate::moto_or_skip;
use crate::situational::ecs_service;
use aws_config::SdkConfig;
use faultproxy::{FaultKind, ProxyHandle};

async fn rollout(conf: &SdkConfig, name: &str) -> (Option<String>, Option<String>) {
    let ecs = aws_sdk_ecs::Client::new(conf);
    let d = ecs
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .unwrap();
    let dep = &d.services()[0].deployments()[0];
    (
        dep.rollout_state().map(|s| s.as_str().to_string()),
        dep.rollout_state_reason().map(str::to_string),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_deployment_shows_failed_rollout_and_stopped_tasks() {
    use aws_sdk_ecs::types::DesiredStatus;
    let moto = moto_or_skip!();
    let proxy: ProxyHandle = start(quiet(&moto, 16, 0.0)).await;
    let conf = sdk(&proxy.url(), 3).await;
    let name = unique("fp-svc");
    let reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
    proxy.fail_deployments(&name, reason);
    let (_, td) = ecs_service(&conf, &name).await;
    let (state, why) = rollout(&conf, &name).await;
    assert_eq!(state.as_deref(), Some("FAILED"));
    assert!(why.unwrap().contains("circuit breaker"));

    let ecs = aws_sdk_ecs::Client::new(&conf);
    let listed = ecs
        .list_tasks()
        .cluster(&name)
        .service_name(&name)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.task_arns().len(), 2);
    let tasks = ecs
        .describe_tasks()
        .cluster(&name)
        .set_tasks(Some(listed.task_arns().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.tasks().len(), 2);
    for t in tasks.tasks() {
        assert_eq!(t.stopped_reason(), Some(reason));
        assert_eq!(t.last_status(), Some("STOPPED"));
        assert_eq!(t.containers()[0].name(), Some("web"));
        assert_eq!(t.containers()[0].exit_code(), Some(1));
    }

    // Fixed and redeployed: the new deployment is not failed.
    proxy.clear_deployment_failures();
    ecs.update_service()
        .cluster(&name)
        .service(&name)
        .task_definition(td)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let (state, _) = rollout(&conf, &name).await;
    assert_ne!(state.as_deref(), Some("FAILED"));
    assert!(proxy.stats().faults_of(FaultKind::DeploymentFailed) >= 3);
}
