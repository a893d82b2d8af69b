//! A stack `up` deployed into the ECS emulation (a fault proxy at rate 0 in front of moto),
//! with the data plane front before it ([`Balancer`]): its tasks run in podman, reached as
//! through the load balancer. Shared by the tests that call the deployed API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use faultproxy::{FaultConfig, Profile, Proxy, ProxyHandle};

use super::Project;
use super::dataplane::ControlPlane;
use super::lb::Balancer;

pub struct Fronted {
    pub proxy: ProxyHandle,
    pub project: Project,
    pub cp: Arc<ControlPlane>,
    pub lb: Balancer,
    /// The ECS cluster and the API's ECS service.
    pub cluster: String,
    pub service: String,
}

/// `up` of the API (two tasks; `extra` ends its block in stack.yaml) with rollouts (and a
/// minute of a deploy strategy) taking `rollout`, once both tasks are in service. None (the test is skipped) outside
/// scripts/test.sh or without podman.
pub async fn deploy(seed: u64, rollout: Duration, extra: &str) -> Option<Fronted> {
    let moto = super::moto()?;
    if std::env::var_os("STACKCTL_TEST_PODMAN").is_none() {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return None;
    }
    let mut cfg =
        FaultConfig::new(super::upstream(&moto), seed, 0.0).with_profile(Profile::Passthrough);
    cfg.ecs_rollout = rollout;
    // A minute of a strategy's waits and bake time lasts a rollout.
    cfg.ecs_minute = rollout;
    let proxy = Proxy::start(cfg).await.unwrap();
    let endpoint = proxy.url();
    let project = Project::new(&endpoint, extra);
    project.run(&["up"]).ok();
    let cp = Arc::new(ControlPlane::new(&endpoint).await);
    let cluster = format!("{}-default", project.name);
    let service = format!("{cluster}-api");
    // The listener names the target groups (two, with blue/green, canary or linear) and
    // weighs them; the API's group is the fallback.
    let found = cp
        .aws
        .elb
        .describe_target_groups()
        .names(&service)
        .send()
        .await;
    let groups = found
        .unwrap()
        .target_groups()
        .iter()
        .filter_map(|g| g.target_group_arn().map(str::to_string))
        .collect();
    let balancers = cp
        .aws
        .elb
        .describe_load_balancers()
        .names(&cluster)
        .send()
        .await
        .unwrap();
    let lb_arn = balancers.load_balancers()[0].load_balancer_arn().unwrap();
    let listeners = cp
        .aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    let listener = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(80))
        .and_then(|l| l.listener_arn())
        .map(str::to_string);
    let lb = Balancer::start(cp.clone(), &cluster, &service, groups, listener).await;
    let f = Fronted {
        proxy,
        project,
        cp,
        lb,
        cluster,
        service,
    };
    f.wait_for("the two tasks never got in service", |p| p.len() == 2)
        .await;
    Some(f)
}

impl Fronted {
    /// Waits (up to 2 minutes) until the ports in service satisfy `ok`.
    pub async fn wait_for(&self, what: &str, ok: impl Fn(&[u16]) -> bool) {
        let started = Instant::now();
        while !ok(&self.lb.pool.lock().unwrap()) {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{what}: {:?}",
                self.lb.journal()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The revision (`family:N`) the ECS service runs.
    pub async fn running(&self) -> String {
        let out = self
            .cp
            .aws
            .ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(&self.service)
            .send()
            .await
            .unwrap();
        let td = out.services()[0].task_definition().unwrap();
        td.rsplit('/').next().unwrap().to_string()
    }
}
