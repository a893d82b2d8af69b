//! StopServiceDeployment of an emulated service (moto has none): a deployment in progress is
//! rolled back to the previous revision ("Stopping Amazon ECS service deployments", ECS
//! Developer Guide): at once when its tasks still run (a blue/green-family deployment before
//! its bake time ended), else once they are back. A rollback already under way continues; a
//! finished deployment cannot be stopped (ConflictException), an unknown one is
//! ServiceDeploymentNotFoundException, and `stopType` may only be ROLLBACK.

use crate::classify::Call;
use crate::ecs::epoch;
use crate::ecs_learn::catch_up;
use crate::wire::AwsError;
use crate::world::{Ctx, World};
use serde_json::json;

/// The reply to a StopServiceDeployment, or what ECS refuses; None: another call.
pub fn answer(call: &Call, world: &mut World, ctx: &mut Ctx) -> Option<Result<Vec<u8>, AwsError>> {
    if !ctx.cfg.ecs_emulation || !call.is("ecs", "StopServiceDeployment") {
        return None;
    }
    Some(stop(call, world, ctx))
}

fn stop(call: &Call, world: &mut World, ctx: &mut Ctx) -> Result<Vec<u8>, AwsError> {
    let invalid = |m: &str| AwsError::client(400, "InvalidParameterException", m);
    if let Some(t) = call.json_str("/stopType")
        && t != "ROLLBACK"
    {
        return Err(invalid("The valid values for stopType are ROLLBACK."));
    }
    let arn = call
        .json_str("/serviceDeploymentArn")
        .ok_or_else(|| invalid("serviceDeploymentArn is required."))?
        .to_string();
    let key = world
        .ecs
        .iter()
        .find(|(_, s)| s.history.deployments.iter().any(|r| r.arn == arn))
        .map(|(k, _)| k.clone())
        .ok_or_else(|| {
            AwsError::client(
                400,
                "ServiceDeploymentNotFoundException",
                format!("The service deployment {arn} does not exist."),
            )
        })?;
    let (now, half) = (ctx.now, ctx.cfg.ecs_rollout / 2);
    let svc = catch_up(world, &key, ctx).expect("found above");
    let record = svc
        .history
        .deployments
        .iter()
        .find(|r| r.arn == arn)
        .expect("found above")
        .clone();
    let reply = || Ok(serde_json::to_vec(&json!({ "serviceDeploymentArn": arn })).expect("json"));
    match record.status {
        "PENDING" | "IN_PROGRESS" => {}
        "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" | "STOP_REQUESTED" => return reply(),
        other => {
            return Err(AwsError::client(
                400,
                "ConflictException",
                format!("The service deployment is {other}: only one in progress can be stopped."),
            ));
        }
    }
    let e = epoch(now, now);
    let Some((back, done)) = crate::ecs_shift::roll_back(svc, now, half) else {
        return Err(AwsError::client(
            400,
            "ConflictException",
            "The service deployment has no previous service revision to roll back to.",
        ));
    };
    svc.history.stopped(&record.deployment, e, &back, done);
    let td = svc
        .primary()
        .map(|d| d.task_def.clone())
        .unwrap_or_default();
    let name = svc.name.clone();
    svc.event(
        ctx.dice,
        e,
        format!("(service {name}) rolling back to {td} (deployment {back})."),
    );
    reply()
}
