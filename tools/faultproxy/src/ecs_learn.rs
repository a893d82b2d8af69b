//! The ECS data plane emulation's side of CreateService/UpdateService/DeleteService: what real
//! ECS refuses before the request reaches moto, and what the emulation learns from the reply.

use crate::classify::Call;
use crate::decide::Dice;
use crate::ecs::{Deployment, EcsService, Key, epoch};
use crate::wire::AwsError;
use crate::world::{Ctx, World, arn_name, json};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn key(region: &str, cluster: &str, service: &str) -> Key {
    (
        region.into(),
        arn_name(cluster).into(),
        arn_name(service).into(),
    )
}

/// The key of a service in a reply.
pub fn reply_key(region: &str, s: &Value) -> Option<Key> {
    Some(key(
        region,
        s.get("clusterArn")?.as_str()?,
        s.get("serviceName")?.as_str()?,
    ))
}

/// A service the emulation has not seen created (a restarted proxy): taken as steady.
pub fn adopt(s: &Value, now: Instant, rollout: Duration, dice: &mut Dice) -> EcsService {
    let first = s
        .pointer("/deployments/0")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let desired = s["desiredCount"].as_i64().unwrap_or(0);
    let str_of = |v: &Value| v.as_str().map(str::to_string);
    let id = str_of(&first["id"]).unwrap_or_else(|| format!("ecs-svc/{}", dice.digits(19)));
    let task_def = str_of(&first["taskDefinition"]).or_else(|| str_of(&s["taskDefinition"]));
    let mut svc = EcsService {
        name: str_of(&s["serviceName"]).unwrap_or_default(),
        arn: str_of(&s["serviceArn"]).unwrap_or_default(),
        desired,
        deployment_config: default_config(s.get("deploymentConfiguration")),
        grace: s.get("healthCheckGracePeriodSeconds").cloned(),
        load_balancers: s["loadBalancers"].as_array().cloned().unwrap_or_default(),
        client_token: None,
        deployments: vec![Deployment {
            id: id.clone(),
            task_def: task_def.unwrap_or_default(),
            primary: true,
            created: now,
            created_epoch: first["createdAt"]
                .as_f64()
                .unwrap_or_else(|| epoch(now, now)),
            from: desired,
            to: desired,
            since: now,
            healthy_base: desired,
            done: Some(now),
            failed: None,
            group: None,
            shift: None,
        }],
        template: first,
        latest: id,
        deleted: (s["status"] == "INACTIVE").then(|| now.checked_sub(rollout).unwrap_or(now)),
        events: Vec::new(),
        stops: Vec::new(),
        history: Default::default(),
        minute: Duration::from_secs(60),
    };
    crate::ecs_history::adopted(&mut svc, now, dice.digits(19));
    svc
}

/// The emulated service `key`, moved to `ctx.now` (its failure, rollback or completion).
pub fn catch_up<'w>(world: &'w mut World, key: &Key, ctx: &mut Ctx) -> Option<&'w mut EcsService> {
    let failing = world.failing.get(&key.2).map(|f| f.task_arns.len());
    let svc = world.ecs.get_mut(key)?;
    svc.advance(ctx.now, ctx.cfg.ecs_rollout, failing, ctx.dice);
    Some(svc)
}

/// What ECS shows when no deploymentConfiguration was given, with `given` merged in.
fn default_config(given: Option<&Value>) -> Value {
    let mut c = json!({
        "deploymentCircuitBreaker": {"enable": false, "rollback": false},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    });
    merge(&mut c, given);
    c
}

fn merge(into: &mut Value, given: Option<&Value>) {
    if let (Some(into), Some(Value::Object(given))) = (into.as_object_mut(), given) {
        for (k, v) in given {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// Whether ECS itself deploys the service (not CodeDeploy or an external controller).
pub fn ecs_controlled(s: &Value) -> bool {
    s.pointer("/deploymentController/type")
        .and_then(Value::as_str)
        .is_none_or(|t| t == "ECS")
}

/// The service a CreateService/UpdateService/DeleteService request names.
pub fn request_key(call: &Call) -> Option<Key> {
    let service = match call.action.as_str() {
        "CreateService" => call.json_str("/serviceName")?,
        _ => call.json_str("/service")?,
    };
    Some(key(
        &call.region,
        call.json_str("/cluster").unwrap_or("default"),
        service,
    ))
}

/// The full ARN of a task definition reference (ARN, `family:revision` or family).
fn resolve_task_def(world: &World, reference: &str, current: &str) -> String {
    if reference.starts_with("arn:") {
        return reference.to_string();
    }
    if let Some(t) = world.task_def(reference) {
        return t.arn.clone();
    }
    match current.split_once("task-definition/") {
        Some((prefix, _)) => format!("{prefix}task-definition/{reference}"),
        None => reference.to_string(),
    }
}

/// Before forwarding: what real ECS refuses that moto accepts. CreateService of an ACTIVE
/// service (unless a retry with its clientToken) or of a DRAINING one, UpdateService of a
/// service that is not ACTIVE, DeleteCluster while a service is active or its tasks are still
/// stopping. (DeleteService of a DRAINING service just returns it.)
pub fn check(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if !ctx.cfg.ecs_emulation || call.service != "ecs" {
        return None;
    }
    if call.action == "DeleteCluster" {
        return cluster_in_use(call, world, ctx);
    }
    if !matches!(call.action.as_str(), "CreateService" | "UpdateService") {
        return None;
    }
    let invalid = |m: &str| Some(AwsError::client(400, "InvalidParameterException", m));
    let known = world.ecs.get(&request_key(call)?);
    if let Some(why) = strategy_refused(call, known) {
        return invalid(&why);
    }
    let svc = known?;
    let status = svc.status(ctx.now, ctx.cfg.ecs_rollout);
    match (call.action.as_str(), status) {
        ("CreateService", "ACTIVE") => {
            let token = call.json_str("/clientToken");
            if token.is_some() && token == svc.client_token.as_deref() {
                return None; // a retry: ECS answers with the service
            }
            invalid("Creation of service was not idempotent.")
        }
        ("CreateService", "DRAINING") => {
            invalid("Unable to Start a service that is still Draining.")
        }
        ("UpdateService", "DRAINING" | "INACTIVE") => Some(AwsError::client(
            400,
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        )),
        _ => None,
    }
}

/// What ECS refuses of the deployment strategy a CreateService/UpdateService asks for, with
/// what an update leaves as it is (`ecs_strategy::refuse`).
fn strategy_refused(call: &Call, known: Option<&EcsService>) -> Option<String> {
    let req = call.json.as_ref()?;
    let given = |k: &str| req.get(k).filter(|v| !v.is_null());
    // A deploymentConfiguration given replaces the service's (its fields left out take
    // their defaults).
    let config = match (given("deploymentConfiguration"), known) {
        (None, Some(svc)) if call.action == "UpdateService" => svc.deployment_config.clone(),
        (given, _) => default_config(given),
    };
    let lbs = match (given("loadBalancers"), known) {
        (Some(l), _) => l.as_array().cloned().unwrap_or_default(),
        (None, Some(svc)) if call.action == "UpdateService" => svc.load_balancers.clone(),
        _ => vec![],
    };
    crate::ecs_strategy::refuse(&config, &lbs)
}

/// ECS refuses to delete a cluster that still has an active service, or tasks: those of a
/// deleted service keep the cluster busy while they drain and stop, and for a while after the
/// service itself is INACTIVE (its tasks are still STOPPING and deprovisioning).
fn cluster_in_use(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    let cluster = arn_name(call.json_str("/cluster")?);
    let linger = 2 * ctx.cfg.ecs_rollout;
    let mut tasks = false;
    for (_, svc) in world
        .ecs
        .iter()
        .filter(|(k, _)| k.0 == call.region && k.1 == cluster)
    {
        match svc.deleted {
            None => {
                return Some(AwsError::client(
                    400,
                    "ClusterContainsServicesException",
                    "The Cluster cannot be deleted while Services are active.",
                ));
            }
            Some(t) => tasks |= ctx.now < t + linger,
        }
    }
    tasks.then(|| {
        AwsError::client(
            400,
            "ClusterContainsTasksException",
            "The Cluster cannot be deleted while Tasks are active.",
        )
    })
}

/// After a successful CreateService/UpdateService/DeleteService: the emulation's side.
pub fn learn(call: &Call, body: &[u8], world: &mut World, ctx: &mut Ctx) {
    if !ctx.cfg.ecs_emulation || call.service != "ecs" {
        return;
    }
    let (now, rollout) = (ctx.now, ctx.cfg.ecs_rollout);
    let half = rollout / 2;
    let reply = json(body);
    let Some(s) = reply.get("service") else {
        return;
    };
    let Some(key) = reply_key(&call.region, s).filter(|_| ecs_controlled(s)) else {
        return;
    };
    // Catch up first: a deployment nobody described since it completed is COMPLETED.
    if call.action != "CreateService" {
        catch_up(world, &key, ctx);
    }
    let req = call.json.clone().unwrap_or(Value::Null);
    let given = |k: &str| req.get(k).filter(|v| !v.is_null());
    match call.action.as_str() {
        "CreateService" => {
            let token = call.json_str("/clientToken").map(str::to_string);
            if let Some(old) = world.ecs.get(&key)
                && old.deleted.is_none()
                && token.is_some()
                && old.client_token == token
            {
                return; // an idempotent retry
            }
            let mut svc = adopt(s, now, rollout, ctx.dice);
            svc.deployment_config = default_config(given("deploymentConfiguration"));
            svc.grace = given("healthCheckGracePeriodSeconds").cloned();
            svc.load_balancers = given("loadBalancers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            svc.client_token = token;
            svc.deleted = None;
            svc.desired = given("desiredCount")
                .and_then(Value::as_i64)
                .unwrap_or(svc.desired);
            svc.minute = ctx.cfg.ecs_minute;
            let td = svc.deployments[0].task_def.clone();
            svc.deployments.clear();
            svc.history = Default::default();
            svc.deploy(td, now, half, ctx.dice);
            world.ecs.insert(key, svc);
        }
        "UpdateService" => {
            let task_def = given("taskDefinition")
                .and_then(Value::as_str)
                .map(str::to_string);
            let current = match world.ecs.get(&key) {
                Some(svc) => svc
                    .primary()
                    .map(|p| p.task_def.clone())
                    .unwrap_or_default(),
                None => {
                    let svc = adopt(s, now, rollout, ctx.dice);
                    let td = svc.deployments[0].task_def.clone();
                    world.ecs.insert(key.clone(), svc);
                    td
                }
            };
            let task_def = task_def.map(|t| resolve_task_def(world, &t, &current));
            let Some(svc) = world.ecs.get_mut(&key) else {
                return;
            };
            svc.minute = ctx.cfg.ecs_minute;
            if let Some(n) = given("desiredCount").and_then(Value::as_i64)
                && n != svc.desired
            {
                svc.scale(n, now, half);
            }
            if let Some(c) = given("deploymentConfiguration") {
                svc.deployment_config = default_config(Some(c));
            }
            if let Some(g) = given("healthCheckGracePeriodSeconds") {
                svc.grace = Some(g.clone());
            }
            let mut redeploy = given("forceNewDeployment") == Some(&Value::Bool(true));
            if let Some(lbs) = given("loadBalancers").and_then(Value::as_array) {
                redeploy |= *lbs != svc.load_balancers;
                svc.load_balancers = lbs.clone();
            }
            if let Some(net) = given("networkConfiguration") {
                redeploy |= svc.template.get("networkConfiguration") != Some(net);
                svc.template["networkConfiguration"] = net.clone();
            }
            let td = task_def.unwrap_or_else(|| current.clone());
            if redeploy || td != current {
                svc.deploy(td, now, half, ctx.dice);
            }
        }
        "DeleteService" => {
            let svc = world
                .ecs
                .entry(key)
                .or_insert_with(|| adopt(s, now, rollout, ctx.dice));
            if svc.deleted.is_some() {
                return; // deleting a deleted service changes nothing
            }
            svc.deleted = Some(now);
            for d in &mut svc.deployments {
                (d.from, d.to, d.since) = (d.running(now, half), 0, now);
            }
        }
        _ => {}
    }
}
