//! The ECS data plane emulation's replies: services as real ECS shows them (deployments,
//! counts, status, configuration), ListServices without INACTIVE services, and the tasks of a
//! service as targets of its target groups.

use crate::classify::Call;
use crate::deploy;
use crate::ecs::{Deployment, EcsService, epoch};
use crate::ecs_learn::{adopt, ecs_controlled, reply_key};
use crate::roles::remember_service;
use crate::world::{Ctx, World, json, text};
use crate::xml;
use crate::{ecs_task_calls, ecs_tasks};
use serde_json::Value;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Response header marking a DescribeTargetHealth reply whose targets the emulation made up,
/// so that a faultproxy in front of this one (a test's own) replaces them with its own.
pub const SYNTHESIZED: &str = "x-faultproxy-synthesized";

/// The rewritten reply, or None to leave it alone. `synthesized`: the reply carries
/// [`SYNTHESIZED`].
pub fn rewrite(
    call: &Call,
    body: &[u8],
    synthesized: bool,
    world: &mut World,
    ctx: &mut Ctx,
) -> Option<Vec<u8>> {
    if !ctx.cfg.ecs_emulation {
        return None;
    }
    match (call.service.as_str(), call.action.as_str()) {
        ("ecs", "DescribeServices") => services(call, body, world, ctx, "/services"),
        ("ecs", "CreateService" | "UpdateService" | "DeleteService") => {
            services(call, body, world, ctx, "/service")
        }
        ("ecs", "ListServices") => list_services(body, world, ctx),
        ("ecs", "ListTasks") => ecs_task_calls::list(call, world, ctx),
        ("elasticloadbalancing", "DescribeTargetHealth") => {
            target_health(call, body, synthesized, world, ctx)
        }
        _ => None,
    }
}

fn services(
    call: &Call,
    body: &[u8],
    world: &mut World,
    ctx: &mut Ctx,
    at: &str,
) -> Option<Vec<u8>> {
    let mut reply = json(body);
    let list: Vec<&mut Value> = match reply.pointer_mut(at)? {
        Value::Array(a) => a.iter_mut().collect(),
        s @ Value::Object(_) => vec![s],
        _ => return None,
    };
    let (now, rollout) = (ctx.now, ctx.cfg.ecs_rollout);
    let mut changed = false;
    for s in list {
        let Some(key) = reply_key(&call.region, s) else {
            continue;
        };
        let stale = world
            .ecs
            .get(&key)
            .map(|e| e.status(now, rollout) == "INACTIVE");
        if call.action == "DescribeServices"
            && ecs_controlled(s)
            && (stale.is_none() || (stale == Some(true) && s["status"] == "ACTIVE"))
        {
            world
                .ecs
                .insert(key.clone(), adopt(s, now, rollout, ctx.dice));
        }
        if !world.ecs.contains_key(&key) {
            continue;
        }
        if call.action == "DescribeServices" {
            remember_service(world, s);
            deploy::ensure_forced(world, &key.2, ctx);
        }
        // A failure shows from the first DescribeServices on, not in the create/update reply.
        let failing = world
            .failing
            .get(&key.2)
            .filter(|_| call.action == "DescribeServices")
            .map(|f| f.task_arns.len());
        let svc = world.ecs.get_mut(&key)?;
        // A count set inside AWS, not through this proxy (Application Auto Scaling calls
        // UpdateService itself): the emulation's tasks follow it.
        if call.action == "DescribeServices"
            && svc.deleted.is_none()
            && let Some(n) = s["desiredCount"].as_i64()
            && n != svc.desired
        {
            svc.scale(n, now, rollout / 2);
        }
        svc.advance(now, rollout, failing, ctx.dice);
        render(svc, s, now, rollout);
        changed = true;
    }
    changed.then(|| serde_json::to_vec(&reply).expect("json"))
}

fn render(svc: &EcsService, s: &mut Value, now: Instant, rollout: Duration) {
    let half = rollout / 2;
    let mut running = 0;
    let mut pending = 0;
    let mut deployments = Vec::new();
    for d in svc.ordered() {
        let (r, p) = counts(svc, d, now, half);
        running += r;
        pending += p;
        deployments.push(deployment(svc, d, now, half));
    }
    s["deployments"] = Value::Array(deployments);
    if let Some(r) = svc.history.deployments.first() {
        s["currentServiceDeployment"] = r.arn.clone().into();
    }
    s["status"] = svc.status(now, rollout).into();
    s["desiredCount"] = if svc.deleted.is_some() {
        0
    } else {
        svc.desired
    }
    .into();
    s["runningCount"] = running.into();
    s["pendingCount"] = pending.into();
    if let Some(p) = svc.primary() {
        s["taskDefinition"] = p.task_def.clone().into();
    }
    s["deploymentConfiguration"] = svc.deployment_config.clone();
    if let Some(g) = &svc.grace {
        s["healthCheckGracePeriodSeconds"] = g.clone();
    }
    s["loadBalancers"] = Value::Array(svc.load_balancers.clone());
    let mut events = svc.events.clone();
    events.extend(s["events"].as_array().cloned().unwrap_or_default());
    s["events"] = Value::Array(events);
}

/// (running, pending) of a deployment: a task replacing a stopped one is pending until it
/// runs.
fn counts(svc: &EcsService, d: &Deployment, now: Instant, half: Duration) -> (i64, i64) {
    let slots = d.running(now, half);
    let replacing = ecs_tasks::replacing(svc, d, now, half * 2);
    let starting = d.primary && d.failed.is_none() && svc.deleted.is_none();
    let pending = if starting { (d.to - slots).max(0) } else { 0 };
    (slots - replacing, pending + replacing)
}

/// One entry of `deployments`, on moto's entry (launchType, platformFamily, network...).
fn deployment(svc: &EcsService, d: &Deployment, now: Instant, half: Duration) -> Value {
    let (running, pending) = counts(svc, d, now, half);
    let mut v = svc.template.clone();
    if !v.is_object() {
        v = Value::Object(Default::default());
    }
    let state = d.rollout_state();
    let reason = match state {
        "FAILED" => "ECS deployment circuit breaker: tasks failed to start.".to_string(),
        "COMPLETED" => format!("ECS deployment {} completed.", d.id),
        _ => format!("ECS deployment {} in progress.", d.id),
    };
    let updated = d.failed.map(|(t, _)| t).or(d.done).unwrap_or(now);
    v["id"] = d.id.clone().into();
    v["status"] = if d.primary { "PRIMARY" } else { "ACTIVE" }.into();
    v["taskDefinition"] = d.task_def.clone().into();
    // A replaced deployment keeps its count until its tasks drain.
    let desired = match () {
        _ if svc.deleted.is_some() => 0,
        _ if !d.primary && now < d.since => d.from,
        _ => d.to,
    };
    v["desiredCount"] = desired.into();
    v["pendingCount"] = pending.into();
    v["runningCount"] = running.into();
    v["failedTasks"] = d.failed.map_or(0, |(_, n)| n).into();
    v["createdAt"] = d.created_epoch.into();
    v["updatedAt"] = epoch(updated, now).max(d.created_epoch).into();
    v["rolloutState"] = state.into();
    v["rolloutStateReason"] = reason.into();
    v
}

/// ListServices: real ECS does not list INACTIVE services (moto does).
fn list_services(body: &[u8], world: &World, ctx: &Ctx) -> Option<Vec<u8>> {
    let mut reply = json(body);
    let arns = reply.get_mut("serviceArns")?.as_array_mut()?;
    let gone: Vec<&str> = world
        .ecs
        .values()
        .filter(|s| s.status(ctx.now, ctx.cfg.ecs_rollout) == "INACTIVE")
        .map(|s| s.arn.as_str())
        .collect();
    let before = arns.len();
    arns.retain(|a| !a.as_str().is_some_and(|a| gone.contains(&a)));
    (arns.len() != before).then(|| serde_json::to_vec(&reply).expect("json"))
}

/// DescribeTargetHealth of a group a service uses, which moto has no targets in: the
/// service's tasks, `initial` until they have run half a rollout, then `healthy`; `draining`
/// while replaced or deleted; `unhealthy` for a failed deployment.
/// `synthesized`: the upstream is another faultproxy whose targets these are (see
/// [`SYNTHESIZED`]); ours replace them.
fn target_health(
    call: &Call,
    body: &[u8],
    synthesized: bool,
    world: &World,
    ctx: &Ctx,
) -> Option<Vec<u8>> {
    let group = call.param("TargetGroupArn")?;
    if call.form.iter().any(|(k, _)| k.starts_with("Targets.")) {
        return None;
    }
    let doc = text(body);
    if !synthesized
        && xml::leaves(doc)
            .iter()
            .any(|l| l.ends_with("TargetHealthDescriptions/member/Target/Id"))
    {
        return None; // real targets registered: moto's answer stands
    }
    let now = ctx.now;
    let mut keys: Vec<_> = world.ecs.keys().collect();
    keys.sort();
    let mut members = String::new();
    let mut used = false;
    for key in keys {
        let svc = &world.ecs[key];
        if svc.status(now, ctx.cfg.ecs_rollout) == "INACTIVE" {
            continue;
        }
        for lb in &svc.load_balancers {
            let alternate = lb.pointer("/advancedConfiguration/alternateTargetGroupArn");
            if lb["targetGroupArn"].as_str() != Some(group)
                && alternate.and_then(|a| a.as_str()) != Some(group)
            {
                continue;
            }
            used = true;
            let port = lb["containerPort"].as_i64().unwrap_or(80);
            let delay = ecs_tasks::delay(svc, world);
            let (rollout, mut i) = (ctx.cfg.ecs_rollout, 0);
            // Under a blue/green-family strategy each deployment has its own group.
            let in_group = |id: &str| {
                svc.deployments
                    .iter()
                    .find(|d| d.id == id)
                    .and_then(|d| crate::ecs_shift::group_of(svc, d))
                    .is_none_or(|g| g == group)
            };
            for t in ecs_tasks::tasks(svc, now, rollout, delay) {
                if let Some(state) = t.target.filter(|_| in_group(&t.deployment)) {
                    member(&mut members, &key.0, &t.ip, i, port, state);
                    i += 1;
                }
            }
            // A failed deployment's tasks never got healthy.
            for d in svc
                .ordered()
                .filter(|d| d.failed.is_some() && in_group(&d.id))
            {
                for j in 0..d.failed.map_or(0, |(_, n)| n as i64) {
                    let ip = ecs_tasks::address(&d.id, j, 0);
                    member(&mut members, &key.0, &ip, j, port, "unhealthy");
                }
            }
        }
    }
    if !used || (members.is_empty() && !synthesized) {
        return None;
    }
    let open = doc.find("<TargetHealthDescriptions")?;
    let rest = &doc[open..];
    let end = if rest.starts_with("<TargetHealthDescriptions/>") {
        open + "<TargetHealthDescriptions/>".len()
    } else {
        let close = "</TargetHealthDescriptions>";
        open + rest.find(close)? + close.len()
    };
    let filled = format!("<TargetHealthDescriptions>{members}</TargetHealthDescriptions>");
    Some(format!("{}{filled}{}", &doc[..open], &doc[end..]).into_bytes())
}

fn member(out: &mut String, region: &str, ip: &str, i: i64, port: i64, state: &str) {
    let zone = format!("{region}{}", if i % 2 == 0 { 'a' } else { 'b' });
    let reason = match state {
        "initial" => Some((
            "Elb.RegistrationInProgress",
            "Target registration is in progress",
        )),
        "draining" => Some((
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        )),
        "unhealthy" => Some(("Target.FailedHealthChecks", "Health checks failed")),
        _ => None,
    };
    let _ = write!(
        out,
        "<member><Target><Id>{ip}</Id><Port>{port}</Port><AvailabilityZone>{zone}</AvailabilityZone></Target><HealthCheckPort>{port}</HealthCheckPort><TargetHealth><State>{state}</State>"
    );
    if let Some((code, description)) = reason {
        let _ = write!(
            out,
            "<Reason>{code}</Reason><Description>{description}</Description>"
        );
    }
    out.push_str("</TargetHealth></member>");
}
