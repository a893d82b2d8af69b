//! ListTasks, DescribeTasks and StopTask on the emulated tasks of `ecs_tasks`, answered as
//! ECS answers them, and the deregistration delay learned from ModifyTargetGroupAttributes.

use crate::classify::Call;
use crate::ecs::Key;
use crate::ecs_learn::key;
use crate::ecs_tasks::{Stop, Task, delay, describe, tasks};
use crate::wire::AwsError;
use crate::world::{Ctx, World};
use serde_json::{Value, json};
use std::time::Duration;

/// The emulated service a ListTasks, DescribeTasks or StopTask names (by cluster and
/// service, or by cluster and task), and the task if one is named.
fn owner(call: &Call, world: &World, arn: Option<&str>, ctx: &Ctx) -> Option<(Key, Option<Task>)> {
    let cluster = call.json_str("/cluster").unwrap_or("default");
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    let Some(arn) = arn else {
        let k = key(&call.region, cluster, call.json_str("/serviceName")?);
        return world.ecs.contains_key(&k).then_some((k, None));
    };
    world.ecs.iter().find_map(|(k, svc)| {
        if k.0 != call.region || k.1 != cluster {
            return None;
        }
        let t = tasks(svc, ctx.now, ctx.cfg.ecs_rollout, delay(svc, world))
            .into_iter()
            .find(|t| t.arn == arn || t.arn.ends_with(&format!("/{arn}")))?;
        Some((k.clone(), Some(t)))
    })
}

/// ListTasks of an emulated service: its tasks by desired status (RUNNING when not given).
pub fn list(call: &Call, world: &World, ctx: &Ctx) -> Option<Vec<u8>> {
    if !call.is("ecs", "ListTasks") || !ctx.cfg.ecs_emulation {
        return None;
    }
    let (k, _) = owner(call, world, None, ctx)?;
    let svc = &world.ecs[&k];
    let want = call.json_str("/desiredStatus").unwrap_or("RUNNING");
    let arns: Vec<String> = tasks(svc, ctx.now, ctx.cfg.ecs_rollout, delay(svc, world))
        .into_iter()
        .filter(|t| t.desired == want)
        .map(|t| t.arn)
        .collect();
    Some(serde_json::to_vec(&json!({ "taskArns": arns })).expect("json"))
}

/// DescribeTasks: an emulated task named in the request, as JSON.
pub fn find(call: &Call, world: &World, ctx: &Ctx, arn: &str) -> Option<Value> {
    if !ctx.cfg.ecs_emulation {
        return None;
    }
    let (k, t) = owner(call, world, Some(arn), ctx)?;
    let t = t?;
    Some(describe(&world.ecs[&k], &t, &container(world, &t)))
}

/// StopTask of a task ECS does not have: refused as ECS refuses it ("The referenced task was
/// not found" in a cluster it has, ClusterNotFoundException otherwise), where moto would
/// answer 500.
pub fn refuse(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if !call.is("ecs", "StopTask") || !ctx.cfg.ecs_emulation {
        return crate::ecs_history_calls::refuse(call, world, ctx);
    }
    let task = call.json_str("/task").unwrap_or_default();
    if owner(call, world, Some(task), ctx).is_some() {
        return None;
    }
    let cluster = call.json_str("/cluster").unwrap_or("default");
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    let known = world
        .ecs
        .keys()
        .any(|k| k.0 == call.region && k.1 == cluster);
    Some(match known {
        true => AwsError::client(
            400,
            "InvalidParameterException",
            "The referenced task was not found.",
        ),
        false => AwsError::client(400, "ClusterNotFoundException", "Cluster not found."),
    })
}

/// The task's essential container (the first of its task definition).
fn container(world: &World, t: &Task) -> String {
    world
        .task_def(&t.task_def)
        .and_then(|d| d.containers.first().cloned())
        .unwrap_or_else(|| "app".into())
}

/// StopTask of an emulated task: recorded, answered with the task as it is now.
pub fn stop(call: &Call, world: &mut World, ctx: &Ctx) -> Option<Vec<u8>> {
    if !call.is("ecs", "StopTask") || !ctx.cfg.ecs_emulation {
        return None;
    }
    let (k, t) = owner(call, world, Some(call.json_str("/task")?), ctx)?;
    let t = t?;
    if t.desired == "RUNNING" {
        let reason = call.json_str("/reason").unwrap_or("Task stopped by user");
        world.ecs.get_mut(&k)?.stops.push(Stop {
            deployment: t.deployment.clone(),
            slot: t.slot,
            at: ctx.now,
            reason: reason.to_string(),
        });
    }
    let svc = &world.ecs[&k];
    let mut t = tasks(svc, ctx.now, ctx.cfg.ecs_rollout, delay(svc, world))
        .into_iter()
        .find(|x| x.arn == t.arn)?;
    // ECS answers at once: still RUNNING, to stop.
    if t.last == "DEACTIVATING" {
        t.last = "RUNNING";
    }
    let task = describe(svc, &t, &container(world, &t));
    Some(serde_json::to_vec(&json!({ "task": task })).expect("json"))
}

/// ModifyTargetGroupAttributes: the deregistration delay a stopped task drains for.
pub fn learn(call: &Call, world: &mut World) {
    if !call.is("elasticloadbalancing", "ModifyTargetGroupAttributes") {
        return;
    }
    let Some(group) = call.param("TargetGroupArn") else {
        return;
    };
    for i in 1..=20 {
        let k = call.param(&format!("Attributes.member.{i}.Key"));
        if k == Some("deregistration_delay.timeout_seconds")
            && let Some(v) = call
                .param(&format!("Attributes.member.{i}.Value"))
                .and_then(|v| v.parse().ok())
        {
            world
                .deregistration_delay
                .insert(group.to_string(), Duration::from_secs(v));
        }
    }
}
