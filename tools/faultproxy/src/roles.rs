//! IAM propagation: ECS cannot assume a just-created role for a few seconds.

use crate::classify::Call;
use crate::wire::AwsError;
use crate::world::{Ctx, Service, TaskDef, World, arn_name, json};
use serde_json::Value;

/// Learns created roles, registered task definitions and services (for their task definition).
pub fn learn(call: &Call, body: &[u8], world: &mut World, ctx: &mut Ctx) {
    if call.is("iam", "CreateRole") {
        let rule = ctx.cfg.role_propagation;
        if let Some(name) = call.param("RoleName")
            && ctx.dice.chance(rule.chance.resolve(ctx.cfg.rate))
            && !rule.window.is_zero()
        {
            world.roles.insert(name.to_string(), ctx.now + rule.window);
        }
    } else if call.is("ecs", "RegisterTaskDefinition") {
        let reply = json(body);
        let Some(arn) = reply
            .pointer("/taskDefinition/taskDefinitionArn")
            .and_then(Value::as_str)
        else {
            return;
        };
        let containers = call
            .json
            .as_ref()
            .and_then(|j| j.get("containerDefinitions"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.get("name")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let td = TaskDef {
            arn: arn.to_string(),
            roles: request_roles(call),
            containers,
        };
        if let Some(family) = call.json_str("/family") {
            world.task_defs.insert(family.to_string(), td.clone());
        }
        world.task_defs.insert(arn.to_string(), td);
    } else if call.service == "ecs"
        && matches!(call.action.as_str(), "CreateService" | "UpdateService")
    {
        let reply = json(body);
        if let Some(s) = reply.get("service") {
            remember_service(world, s);
        }
    }
}

pub fn remember_service(world: &mut World, s: &Value) {
    let get = |k: &str| {
        s.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if let Some(name) = s.get("serviceName").and_then(Value::as_str) {
        world.services.insert(
            name.to_string(),
            Service {
                arn: get("serviceArn"),
                cluster_arn: get("clusterArn"),
                task_definition: get("taskDefinition"),
            },
        );
    }
}

/// `executionRoleArn`, `taskRoleArn`, (CreateService) `role` and the infrastructure role a
/// blue/green-family strategy passes for the load balancer, of a request.
fn request_roles(call: &Call) -> Vec<String> {
    let infra = "/loadBalancers/0/advancedConfiguration/roleArn";
    ["/executionRoleArn", "/taskRoleArn", "/role", infra]
        .iter()
        .filter_map(|p| call.json_str(p))
        .map(str::to_string)
        .collect()
}

/// Before forwarding an ECS call that needs a role: the error ECS gives while it cannot
/// assume it yet.
pub fn check(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if call.service != "ecs" {
        return None;
    }
    let mut roles = request_roles(call);
    let code = match call.action.as_str() {
        "RegisterTaskDefinition" => "ClientException",
        "CreateService" | "UpdateService" => {
            let td = call
                .json_str("/taskDefinition")
                .map(str::to_string)
                .or_else(|| {
                    let name = call.json_str("/service")?;
                    Some(world.services.get(arn_name(name))?.task_definition.clone())
                });
            if let Some(td) = td.and_then(|t| world.task_def(&t)) {
                roles.extend(td.roles.iter().cloned());
            }
            "InvalidParameterException"
        }
        _ => return None,
    };
    let role = roles
        .into_iter()
        .find(|r| World::until(world.roles.get(arn_name(r)), ctx.now))?;
    Some(AwsError::client(
        400,
        code,
        format!(
            "ECS was unable to assume the role '{role}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role."
        ),
    ))
}
