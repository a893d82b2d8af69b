//! Failing ECS deployments: DescribeServices shows the primary deployment `FAILED`, and
//! ListTasks(desiredStatus=STOPPED)/DescribeTasks show stopped tasks with a `stoppedReason`.

use crate::classify::Call;
use crate::decide::Dice;
use crate::ecs_learn::reply_key;
use crate::roles::remember_service;
use crate::world::{Ctx, Failure, World, arn_name, json};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// On a new deployment (CreateService, UpdateService with a task definition or forced):
/// decide whether it fails.
pub fn learn(call: &Call, body: &[u8], world: &mut World, ctx: &mut Ctx) {
    let new_deployment = call.is("ecs", "CreateService")
        || (call.is("ecs", "UpdateService")
            && (call.json_str("/taskDefinition").is_some()
                || call.json.as_ref().and_then(|j| j.get("forceNewDeployment"))
                    == Some(&Value::Bool(true))));
    if !new_deployment {
        return;
    }
    let Some(name) = json(body)
        .pointer("/service/serviceName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let rule = &ctx.cfg.deploy_failure;
    let reason = match world.forced_failures.get(&name) {
        Some(r) => Some(r.clone()),
        None => ctx
            .dice
            .chance(rule.chance.resolve(ctx.cfg.rate))
            .then(|| rule.reason.clone()),
    };
    world.failing.remove(&name);
    if let Some(reason) = reason {
        start_failure(world, &name, reason, rule.stopped_tasks, ctx.dice);
    }
}

/// Marks the current deployment of `name` failed, with synthesized stopped tasks.
fn start_failure(world: &mut World, name: &str, reason: String, count: usize, dice: &mut Dice) {
    let Some(svc) = world.services.get(name).cloned() else {
        return;
    };
    let account_prefix = svc
        .arn
        .split(":service/")
        .next()
        .unwrap_or_default()
        .to_string();
    let cluster = arn_name(&svc.cluster_arn).to_string();
    let containers = world
        .task_def(&svc.task_definition)
        .map(|t| t.containers.clone())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| vec!["app".into()]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut task_arns = Vec::new();
    for _ in 0..count.max(1) {
        let arn = format!("{account_prefix}:task/{cluster}/{}", dice.hex(32));
        let task = json!({
            "taskArn": arn,
            "clusterArn": svc.cluster_arn,
            "taskDefinitionArn": svc.task_definition,
            "group": format!("service:{name}"),
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "healthStatus": "UNKNOWN",
            "launchType": "FARGATE",
            "stopCode": "EssentialContainerExited",
            "stoppedReason": reason,
            "createdAt": now - 30.0,
            "startedAt": now - 25.0,
            "stoppingAt": now - 1.0,
            "stoppedAt": now,
            "containers": containers.iter().map(|c| json!({
                "containerArn": format!("{account_prefix}:container/{cluster}/{}", dice.hex(32)),
                "taskArn": arn,
                "name": c,
                "lastStatus": "STOPPED",
                "exitCode": 1,
                "healthStatus": "UNKNOWN",
            })).collect::<Vec<_>>(),
            "tags": [],
        });
        world.synthetic_tasks.insert(arn.clone(), task);
        task_arns.push(arn);
    }
    world
        .failing
        .insert(name.to_string(), Failure { task_arns });
}

/// The test hook: a service with forced failures whose current deployment is not failing yet
/// fails now.
pub fn ensure_forced(world: &mut World, name: &str, ctx: &mut Ctx) {
    if let Some(reason) = world.forced_failures.get(name).cloned()
        && !world.failing.contains_key(name)
    {
        let count = ctx.cfg.deploy_failure.stopped_tasks;
        start_failure(world, name, reason, count, ctx.dice);
    }
}

/// DescribeServices: failing services show a FAILED primary deployment and no running tasks.
pub fn rewrite_services(
    call: &Call,
    body: &[u8],
    world: &mut World,
    ctx: &mut Ctx,
) -> Option<Vec<u8>> {
    if !call.is("ecs", "DescribeServices") {
        return None;
    }
    let mut reply = json(body);
    let services = reply.get_mut("services")?.as_array_mut()?;
    let mut changed = false;
    for s in services.iter_mut() {
        remember_service(world, s);
        let Some(name) = s
            .get("serviceName")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        ensure_forced(world, &name, ctx);
        let Some(failure) = world.failing.get(&name) else {
            continue;
        };
        let failed = failure.task_arns.len();
        // The ECS emulation already shows the failure (and a rollback) in its deployments.
        let emulated = reply_key(&call.region, s).is_some_and(|k| world.ecs.contains_key(&k));
        for d in s
            .get_mut("deployments")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter(|_| !emulated)
        {
            if d.get("status").and_then(Value::as_str) == Some("PRIMARY") {
                d["rolloutState"] = "FAILED".into();
                d["rolloutStateReason"] =
                    "ECS deployment circuit breaker: tasks failed to start.".into();
                d["runningCount"] = 0.into();
                d["pendingCount"] = 0.into();
                d["failedTasks"] = failed.into();
            }
        }
        if !emulated {
            s["runningCount"] = 0.into();
            s["pendingCount"] = 0.into();
        }
        let event = json!({
            "id": ctx.dice.request_id(),
            "createdAt": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
            "message": format!("(service {name}) has stopped {failed} running tasks: {}.",
                failure.task_arns.iter().map(|a| format!("(task {})", arn_name(a))).collect::<Vec<_>>().join(" ")),
        });
        if let Some(events) = s.get_mut("events").and_then(Value::as_array_mut) {
            events.insert(0, event);
        } else {
            s["events"] = json!([event]);
        }
        changed = true;
    }
    changed.then(|| serde_json::to_vec(&reply).expect("json"))
}

/// ListTasks(serviceName, desiredStatus=STOPPED): adds the failing service's stopped tasks.
pub fn rewrite_list_tasks(call: &Call, body: &[u8], world: &World) -> Option<Vec<u8>> {
    if !call.is("ecs", "ListTasks") || call.json_str("/desiredStatus") != Some("STOPPED") {
        return None;
    }
    let failure = world
        .failing
        .get(arn_name(call.json_str("/serviceName")?))?;
    let mut reply = json(body);
    if !reply.is_object() {
        reply = json!({});
    }
    let list = reply["taskArns"].as_array().cloned().unwrap_or_default();
    let mut list: Vec<Value> = list
        .into_iter()
        .filter(|v| !failure.task_arns.iter().any(|a| v == a))
        .collect();
    list.extend(failure.task_arns.iter().map(|a| Value::from(a.as_str())));
    reply["taskArns"] = Value::Array(list);
    Some(serde_json::to_vec(&reply).expect("json"))
}

/// DescribeTasks naming synthesized tasks: the request body to forward for the real ones
/// (None: nothing to forward) and the synthesized tasks to add to the reply.
pub fn split_describe_tasks(
    call: &Call,
    world: &World,
    ctx: &Ctx,
) -> Option<(Option<Vec<u8>>, Vec<Value>)> {
    if !call.is("ecs", "DescribeTasks") {
        return None;
    }
    let mut req = call.json.clone()?;
    let tasks = req.get("tasks")?.as_array()?.clone();
    // Stopped tasks of a failing deployment, or the ECS emulation's own.
    let made = |a: &str| {
        world
            .synthetic_tasks
            .get(a)
            .cloned()
            .or_else(|| crate::ecs_task_calls::find(call, world, ctx, a))
    };
    let (synthetic, real): (Vec<Value>, Vec<Value>) = tasks
        .into_iter()
        .partition(|t| t.as_str().is_some_and(|a| made(a).is_some()));
    if synthetic.is_empty() {
        return None;
    }
    let found = synthetic.iter().filter_map(|a| made(a.as_str()?)).collect();
    let forward = (!real.is_empty()).then(|| {
        req["tasks"] = Value::Array(real);
        serde_json::to_vec(&req).expect("json")
    });
    Some((forward, found))
}

/// Adds synthesized tasks to a DescribeTasks reply (or makes one).
pub fn merge_tasks(body: Option<&[u8]>, tasks: Vec<Value>) -> Vec<u8> {
    let mut reply = body
        .map(json)
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"tasks": [], "failures": []}));
    let mut list = reply["tasks"].as_array().cloned().unwrap_or_default();
    list.extend(tasks);
    reply["tasks"] = Value::Array(list);
    serde_json::to_vec(&reply).expect("json")
}
