//! ListServiceDeployments, DescribeServiceDeployments and DescribeServiceRevisions of the
//! emulated services, answered from their history (`ecs_history`) as ECS answers them (ECS
//! API Reference): moto has none of the three.

use crate::classify::Call;
use crate::decide::Dice;
use crate::ecs::{EcsService, Key};
use crate::ecs_history::{History, Record, Revision};
use crate::ecs_learn::{catch_up, key};
use crate::wire::AwsError;
use crate::world::{Ctx, World};
use serde_json::{Value, json};
use std::time::Instant;

/// The emulated service a ListServiceDeployments names, caught up to now.
fn service<'w>(call: &Call, world: &'w mut World, ctx: &mut Ctx) -> Option<&'w mut EcsService> {
    let cluster = call.json_str("/cluster").unwrap_or("default");
    catch_up(
        world,
        &key(&call.region, cluster, call.json_str("/service")?),
        ctx,
    )
}

/// Every emulated service, caught up to now (a Describe names ARNs of any of them).
fn all(world: &mut World, ctx: &mut Ctx) {
    let keys: Vec<Key> = world.ecs.keys().cloned().collect();
    for k in keys {
        catch_up(world, &k, ctx);
    }
}

/// What ECS refuses of the three calls (InvalidParameterException: `maxResults` outside 1 to
/// 100, a `nextToken` it did not give, no ARN or more than 20; ServiceNotFoundException).
pub fn refuse(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if !ctx.cfg.ecs_emulation || call.service != "ecs" {
        return None;
    }
    let invalid = |m: &str| Some(AwsError::client(400, "InvalidParameterException", m));
    let j = call.json.clone().unwrap_or(Value::Null);
    match call.action.as_str() {
        "ListServiceDeployments" => {
            if let Some(n) = j.get("maxResults").and_then(Value::as_i64)
                && !(1..=100).contains(&n)
            {
                return invalid("maxResults must be between 1 and 100.");
            }
            if let Some(t) = j.get("nextToken").and_then(Value::as_str)
                && t.parse::<usize>().is_err()
            {
                return invalid("Invalid nextToken.");
            }
            let cluster = call.json_str("/cluster").unwrap_or("default");
            let k: Key = key(&call.region, cluster, call.json_str("/service")?);
            let live = world.ecs.get(&k).is_some_and(|s| s.deleted.is_none());
            (!live).then(|| AwsError::client(400, "ServiceNotFoundException", "Service not found."))
        }
        "DescribeServiceDeployments" | "DescribeServiceRevisions" => {
            let field = if call.action == "DescribeServiceDeployments" {
                "serviceDeploymentArns"
            } else {
                "serviceRevisionArns"
            };
            let n = j.get(field).and_then(Value::as_array).map_or(0, Vec::len);
            (!(1..=20).contains(&n)).then(|| {
                AwsError::client(
                    400,
                    "InvalidParameterException",
                    format!("{field} must hold 1 to 20 ARNs."),
                )
            })
        }
        _ => None,
    }
}

/// StopTask of an emulated task, StopServiceDeployment, or one of the three history calls:
/// answered here (or refused as ECS refuses them).
pub fn answered(
    call: &Call,
    world: &mut World,
    ctx: &Ctx,
    n: u64,
) -> Option<Result<Vec<u8>, AwsError>> {
    if let Some(body) = crate::ecs_task_calls::stop(call, world, ctx) {
        return Some(Ok(body));
    }
    // The emulation draws from its own stream: it shifts no fault decision.
    let mut dice = Dice::for_emulation(ctx.cfg.seed, &call.key(), n);
    let ctx = &mut Ctx {
        cfg: ctx.cfg,
        now: ctx.now,
        dice: &mut dice,
    };
    crate::ecs_stop::answer(call, world, ctx).or_else(|| answer(call, world, ctx).map(Ok))
}

/// The three calls, answered from the history; None: not one of them, or a service the
/// emulation does not know (moto answers).
fn answer(call: &Call, world: &mut World, ctx: &mut Ctx) -> Option<Vec<u8>> {
    if !ctx.cfg.ecs_emulation || call.service != "ecs" {
        return None;
    }
    let reply = match call.action.as_str() {
        "ListServiceDeployments" => list(call, service(call, world, ctx)?, ctx.now),
        "DescribeServiceDeployments" => {
            all(world, ctx);
            describe(
                call,
                world,
                "serviceDeploymentArns",
                "serviceDeployments",
                |h, a| h.deployments.iter().find(|r| r.arn == a).map(deployment),
            )
        }
        "DescribeServiceRevisions" => {
            all(world, ctx);
            describe(
                call,
                world,
                "serviceRevisionArns",
                "serviceRevisions",
                |h, a| h.revisions.iter().find(|r| r.arn == a).map(revision),
            )
        }
        _ => return None,
    };
    Some(serde_json::to_vec(&reply).expect("json"))
}

fn list(call: &Call, svc: &EcsService, _now: Instant) -> Value {
    let wanted: Vec<&str> = call
        .json
        .as_ref()
        .and_then(|j| j.get("status"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let created = |k: &str| {
        call.json
            .as_ref()
            .and_then(|j| j.pointer(&format!("/createdAt/{k}")))
            .and_then(Value::as_f64)
    };
    let (after, before) = (created("after"), created("before"));
    let max = call
        .json
        .as_ref()
        .and_then(|j| j.get("maxResults"))
        .and_then(Value::as_u64)
        .unwrap_or(20)
        .clamp(1, 100) as usize;
    let from: usize = call
        .json_str("/nextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let matching: Vec<&Record> = svc
        .history
        .deployments
        .iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.status))
        .filter(|r| after.is_none_or(|a| r.created >= a))
        .filter(|r| before.is_none_or(|b| r.created <= b))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(from)
        .take(max)
        .map(|r| brief(svc, r))
        .collect();
    let mut out = json!({ "serviceDeployments": page });
    if from + max < matching.len() {
        out["nextToken"] = json!((from + max).to_string());
    }
    out
}

/// `arn:…:service/cluster/name` → `arn:…:cluster/cluster`.
pub fn cluster_arn(service_arn: &str) -> String {
    let c = service_arn.replacen(":service/", ":cluster/", 1);
    c.rsplit_once('/').map_or(c.clone(), |(c, _)| c.to_string())
}

fn service_arn_of(child: &str) -> String {
    let s = child
        .replacen(":service-deployment/", ":service/", 1)
        .replacen(":service-revision/", ":service/", 1);
    s.rsplit_once('/').map_or(s.clone(), |(s, _)| s.to_string())
}

fn brief(svc: &EcsService, r: &Record) -> Value {
    let mut v = json!({
        "serviceDeploymentArn": r.arn,
        "serviceArn": svc.arn,
        "clusterArn": cluster_arn(&svc.arn),
        "createdAt": r.created,
        "startedAt": r.created,
        "targetServiceRevisionArn": r.revision,
        "status": r.status,
    });
    if let Some(f) = r.finished {
        v["finishedAt"] = json!(f);
    }
    if !r.reason.is_empty() {
        v["statusReason"] = json!(r.reason);
    }
    v
}

fn deployment(r: &Record) -> Value {
    let service = service_arn_of(&r.arn);
    let mut v = json!({
        "serviceDeploymentArn": r.arn,
        "serviceArn": service,
        "clusterArn": cluster_arn(&service),
        "createdAt": r.created,
        "startedAt": r.created,
        "updatedAt": r.finished.unwrap_or(r.created),
        "sourceServiceRevisions": r.sources.iter().map(|s| json!({"arn": s})).collect::<Vec<_>>(),
        "targetServiceRevision": {"arn": r.revision},
        "status": r.status,
    });
    if let Some(f) = r.finished {
        v["finishedAt"] = json!(f);
    }
    if !r.reason.is_empty() {
        v["statusReason"] = json!(r.reason);
    }
    if let Some((reason, at, revision)) = &r.rollback {
        v["rollback"] = json!({"reason": reason, "startedAt": at, "serviceRevisionArn": revision});
    }
    if let Some(stage) = r.stage {
        v["lifecycleStage"] = json!(stage);
    }
    v
}

fn revision(r: &Revision) -> Value {
    let service = service_arn_of(&r.arn);
    json!({
        "serviceRevisionArn": r.arn,
        "serviceArn": service,
        "clusterArn": cluster_arn(&service),
        "taskDefinition": r.task_def,
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "loadBalancers": r.load_balancers,
        "networkConfiguration": r.network,
        "createdAt": r.created,
    })
}

/// Describe* of at most 20 ARNs: each found in some service's history, or a failure
/// (`MISSING`, as ECS answers for one it does not have).
fn describe(
    call: &Call,
    world: &World,
    field: &str,
    out: &str,
    find: impl Fn(&History, &str) -> Option<Value>,
) -> Value {
    let arns: Vec<String> = call
        .json
        .as_ref()
        .and_then(|j| j.get(field))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for arn in arns {
        match world.ecs.values().find_map(|s| find(&s.history, &arn)) {
            Some(v) => found.push(v),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    json!({ out: found, "failures": failures })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Protocol;
    use crate::config::FaultConfig;
    use crate::ecs_history::child_arn;

    fn call(action: &str, json: Value) -> Call {
        Call {
            protocol: Protocol::AwsJson { minor: 1 },
            service: "ecs".into(),
            action: action.into(),
            region: "us-east-1".into(),
            mutating: false,
            form: vec![],
            json: Some(json),
        }
    }

    #[test]
    fn what_ecs_refuses_of_the_history_calls() {
        let cfg = FaultConfig::new("http://127.0.0.1:1".parse().unwrap(), 1, 0.0);
        let mut dice = Dice::for_call(1, "ecs:x", 1).1;
        let ctx = Ctx {
            cfg: &cfg,
            now: Instant::now(),
            dice: &mut dice,
        };
        let world = World::default();
        let code = |action: &str, j: Value| refuse(&call(action, j), &world, &ctx).map(|e| e.code);
        let list = |j: Value| code("ListServiceDeployments", j);
        let invalid = Some("InvalidParameterException".to_string());
        assert_eq!(list(json!({"service": "s", "maxResults": 0})), invalid);
        assert_eq!(list(json!({"service": "s", "maxResults": 101})), invalid);
        assert_eq!(list(json!({"service": "s", "nextToken": "x"})), invalid);
        let unknown = list(json!({"service": "s", "maxResults": 100}));
        assert_eq!(unknown.as_deref(), Some("ServiceNotFoundException"));
        let arns = |n: usize| json!({"serviceRevisionArns": vec!["arn"; n]});
        assert_eq!(code("DescribeServiceRevisions", arns(0)), invalid);
        assert_eq!(code("DescribeServiceRevisions", arns(21)), invalid);
        assert_eq!(code("DescribeServiceRevisions", arns(20)), None);
    }

    #[test]
    fn child_arns_follow_the_service_arn() {
        let s = "arn:aws:ecs:us-east-1:123456789012:service/c/web";
        let d = child_arn(s, "service-deployment", "abc");
        assert_eq!(
            d,
            "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/abc"
        );
        assert_eq!(service_arn_of(&d), s);
        assert_eq!(
            cluster_arn(s),
            "arn:aws:ecs:us-east-1:123456789012:cluster/c"
        );
    }
}
