//! An emulated service's tasks one by one, for ListTasks, DescribeTasks and StopTask (moto
//! makes no task for a service, and answers StopTask with a 500). A deployment's tasks are
//! its slots `0..running`; StopTask ends one slot's task and the scheduler replaces it, as
//! ECS does when a service runs fewer tasks than desired.
//!
//! A stopped task behind a load balancer is deregistered first: its target is `draining`
//! and its status DEACTIVATING for the target group's deregistration delay, then ECS sends
//! the stop signal (STOPPING) and it is STOPPED ("Optimize load balancer connection draining
//! parameters for Amazon ECS", ECS Developer Guide). The replacement is PENDING for a
//! quarter of a rollout, RUNNING after, its target `initial` until half a rollout, then
//! `healthy`.

use crate::ecs::{Deployment, EcsService, epoch};
use crate::world::World;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// ELB's default deregistration delay, for a group whose attributes were never set.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(300);
/// From the stop signal to DEPROVISIONING (an application that exits on SIGTERM at once),
/// and from there to STOPPED (the network interface detached).
const STOPPING: Duration = Duration::from_secs(1);

/// One StopTask: the live task of slot `slot` of `deployment` (the slot's stops, in order,
/// are its tasks' generations).
#[derive(Debug, Clone)]
pub struct Stop {
    pub deployment: String,
    pub slot: i64,
    pub at: Instant,
    pub reason: String,
}

/// One task as the emulation sees it at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub arn: String,
    pub ip: String,
    pub deployment: String,
    /// Its slot in the deployment (its generation is the slot's stops before it).
    pub slot: i64,
    pub task_def: String,
    pub last: &'static str,
    pub desired: &'static str,
    /// Its state in the service's target groups, if it is a target now.
    pub target: Option<&'static str>,
    pub created: f64,
    pub stopped: Option<(f64, String)>,
}

const BASIS: u64 = 0xcbf29ce484222325;

fn step(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(0x100000001b3)
}

fn fnv(parts: &[&str]) -> u64 {
    parts
        .iter()
        .flat_map(|p| p.bytes().chain([0]))
        .fold(BASIS, step)
}

/// A task's address (generation 0: as the emulation has always shown a deployment's targets).
pub fn address(deployment: &str, slot: i64, generation: u32) -> String {
    let mut h = deployment.bytes().fold(BASIS, step);
    if generation > 0 {
        h = format!("/{slot}/{generation}").bytes().fold(h, step);
    }
    let n = (h % 60_000 + slot as u64) % 62_500;
    format!("10.0.{}.{}", n / 250, n % 250 + 4)
}

fn arn_suffix(svc: &EcsService, deployment: &str, slot: i64, generation: u32) -> String {
    let (s, g) = (slot.to_string(), generation.to_string());
    format!(
        "{:016x}{:016x}",
        fnv(&[deployment, &s, &g]),
        fnv(&[&svc.arn, deployment, &s, &g])
    )
}

/// The deregistration delay of the service's target group.
pub fn delay(svc: &EcsService, world: &World) -> Duration {
    svc.load_balancers
        .iter()
        .filter_map(|lb| lb["targetGroupArn"].as_str())
        .filter_map(|g| world.deregistration_delay.get(g).copied())
        .max()
        .unwrap_or(if svc.load_balancers.is_empty() {
            Duration::ZERO
        } else {
            DEFAULT_DELAY
        })
}

/// Every task of `svc` at `now`, live and stopped, in slot order.
pub fn tasks(svc: &EcsService, now: Instant, rollout: Duration, delay: Duration) -> Vec<Task> {
    let half = rollout / 2;
    let (prefix, cluster) = match svc.arn.split_once(":service/") {
        Some((p, rest)) => (p, rest.split('/').next().unwrap_or_default()),
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    for d in svc.ordered() {
        let running = d.failed.map_or_else(|| d.running(now, half), |_| 0);
        let draining = svc.deleted.is_some() || d.draining(now);
        for slot in 0..running {
            let stops: Vec<&Stop> = svc
                .stops
                .iter()
                .filter(|s| s.deployment == d.id && s.slot == slot)
                .collect();
            for g in 0..=stops.len() as u32 {
                let arn = format!(
                    "{prefix}:task/{cluster}/{}",
                    arn_suffix(svc, &d.id, slot, g)
                );
                let started = if g == 0 {
                    d.created
                } else {
                    stops[g as usize - 1].at
                };
                let mut t = Task {
                    arn,
                    ip: address(&d.id, slot, g),
                    deployment: d.id.clone(),
                    slot,
                    task_def: d.task_def.clone(),
                    last: "RUNNING",
                    desired: "RUNNING",
                    target: None,
                    created: epoch(started, now),
                    stopped: None,
                };
                if let Some(stop) = stops.get(g as usize) {
                    t.desired = "STOPPED";
                    let signal = stop.at + delay;
                    (t.last, t.target) = match now {
                        n if n < signal => ("DEACTIVATING", Some("draining")),
                        n if n < signal + STOPPING => ("STOPPING", None),
                        n if n < signal + 2 * STOPPING => ("DEPROVISIONING", None),
                        _ => ("STOPPED", None),
                    };
                    if t.last == "STOPPED" {
                        let at = epoch(signal + 2 * STOPPING, now);
                        t.stopped = Some((at, stop.reason.clone()));
                    }
                } else if g > 0 {
                    // A replacement the scheduler started when the task before it stopped.
                    (t.last, t.target) = replacement(now.saturating_duration_since(started), half);
                    if draining {
                        t.target = t.target.map(|_| "draining");
                    }
                } else if draining {
                    // Scaled in by a newer deployment (or the service deleted): on its way out.
                    (t.desired, t.last, t.target) = ("STOPPED", "DEACTIVATING", Some("draining"));
                } else {
                    t.target = Some(
                        if !d.primary || slot < d.healthy_base || now >= d.since + half {
                            "healthy"
                        } else {
                            "initial"
                        },
                    );
                }
                if svc.load_balancers.is_empty() {
                    t.target = None;
                }
                out.push(t);
            }
        }
    }
    out
}

/// A replacement task `since` it started: PENDING for a quarter of a rollout (`half` is half
/// of one), then RUNNING, its target `initial`, then `healthy` from half a rollout.
fn replacement(since: Duration, half: Duration) -> (&'static str, Option<&'static str>) {
    match since {
        s if s < half / 2 => ("PENDING", None),
        s if s < half => ("RUNNING", Some("initial")),
        _ => ("RUNNING", Some("healthy")),
    }
}

/// Tasks of `d` started to replace stopped ones and not RUNNING yet: the slots whose last
/// stop is that recent.
pub fn replacing(svc: &EcsService, d: &Deployment, now: Instant, rollout: Duration) -> i64 {
    let half = rollout / 2;
    let pending = |slot: i64| {
        let last = svc
            .stops
            .iter()
            .rfind(|s| s.deployment == d.id && s.slot == slot);
        last.is_some_and(|s| replacement(now.saturating_duration_since(s.at), half).0 == "PENDING")
    };
    (0..d.running(now, half))
        .filter(|slot| pending(*slot))
        .count() as i64
}

/// The JSON DescribeTasks gives for `t` of `svc`.
pub fn describe(svc: &EcsService, t: &Task, container: &str) -> Value {
    let cluster_arn = crate::ecs_history_calls::cluster_arn(&svc.arn);
    let mut v = json!({
        "taskArn": t.arn,
        "clusterArn": cluster_arn,
        "taskDefinitionArn": t.task_def,
        "group": format!("service:{}", svc.name),
        "startedBy": t.deployment,
        "lastStatus": t.last,
        "desiredStatus": t.desired,
        "launchType": "FARGATE",
        "createdAt": t.created,
        "attachments": [{ "type": "ElasticNetworkInterface", "status": "ATTACHED",
            "details": [{ "name": "privateIPv4Address", "value": t.ip }] }],
        "containers": [{ "name": container, "taskArn": t.arn, "lastStatus": t.last,
            "networkInterfaces": [{ "privateIpv4Address": t.ip }] }],
    });
    if t.last != "PENDING" {
        v["startedAt"] = json!(t.created + 1.0);
    }
    if let Some((at, reason)) = &t.stopped {
        v["stoppedAt"] = json!(at);
        v["stopCode"] = json!("UserInitiated");
        v["stoppedReason"] = json!(reason);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Dice;
    use crate::ecs_learn::adopt;

    const R: Duration = Duration::from_secs(4);
    const DELAY: Duration = Duration::from_secs(5);

    fn service(now: Instant) -> EcsService {
        let moto = json!({"serviceName": "api", "desiredCount": 2, "status": "ACTIVE",
            "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/demo/api",
            "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "api", "containerPort": 8080}],
            "deployments": [{"id": "ecs-svc/1", "taskDefinition": "td:1"}]});
        let mut dice = Dice::for_call(1, "ecs:CreateService", 1).1;
        adopt(&moto, now, R, &mut dice)
    }

    fn view(
        svc: &EcsService,
        at: Instant,
    ) -> Vec<(&'static str, &'static str, Option<&'static str>)> {
        tasks(svc, at, R, DELAY)
            .into_iter()
            .map(|t| (t.desired, t.last, t.target))
            .collect()
    }

    #[test]
    fn a_stopped_task_drains_then_stops_and_a_replacement_starts_at_once() {
        let t0 = Instant::now();
        let mut svc = service(t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        let before = tasks(&svc, at(0), R, DELAY);
        assert_eq!(before.len(), 2);
        assert!(
            before
                .iter()
                .all(|t| t.last == "RUNNING" && t.target == Some("healthy"))
        );
        assert!(
            before[0]
                .arn
                .starts_with("arn:aws:ecs:us-east-1:123456789012:task/demo/")
        );
        svc.stops.push(Stop {
            deployment: before[0].deployment.clone(),
            slot: 0,
            at: at(1000),
            reason: "test".into(),
        });
        // Draining for the deregistration delay, its replacement pending meanwhile.
        assert_eq!(
            view(&svc, at(1500)),
            [
                ("STOPPED", "DEACTIVATING", Some("draining")),
                ("RUNNING", "PENDING", None),
                ("RUNNING", "RUNNING", Some("healthy"))
            ]
        );
        assert_eq!(
            view(&svc, at(2500))[1],
            ("RUNNING", "RUNNING", Some("initial"))
        );
        assert_eq!(
            view(&svc, at(3500))[1],
            ("RUNNING", "RUNNING", Some("healthy"))
        );
        assert_eq!(view(&svc, at(6500))[0], ("STOPPED", "STOPPING", None));
        assert_eq!(view(&svc, at(7500))[0], ("STOPPED", "DEPROVISIONING", None));
        let end = tasks(&svc, at(8500), R, DELAY);
        assert_eq!(
            (end[0].last, end[0].stopped.as_ref().map(|s| s.1.as_str())),
            ("STOPPED", Some("test"))
        );
        assert_ne!(end[0].arn, end[1].arn);
        assert_ne!(
            end[0].ip, end[1].ip,
            "the replacement has an address of its own"
        );
        assert_eq!(end[0].ip, address(&end[0].deployment, 0, 0));
        // Counted pending until it runs.
        let d = &svc.deployments[0];
        assert_eq!(replacing(&svc, d, at(1500), R), 1);
        assert_eq!(replacing(&svc, d, at(2500), R), 0);
    }
}
