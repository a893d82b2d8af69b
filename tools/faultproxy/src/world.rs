//! What the proxy has learned from the traffic: the state behind the situational rules.

use crate::config::FaultConfig;
use crate::decide::Dice;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub struct World {
    /// (resource kind, id) → missing from Describe/Get until.
    pub invisible: HashMap<(&'static str, String), Instant>,
    /// IAM role name → ECS cannot assume it until.
    pub roles: HashMap<String, Instant>,
    /// Task definitions by ARN and by family (latest registered).
    pub task_defs: HashMap<String, TaskDef>,
    /// ECS services by name.
    pub services: HashMap<String, Service>,
    /// Network interfaces of a deleted ALB or stopped tasks are draining until.
    pub drain_until: Option<Instant>,
    /// ALB ARN → `provisioning` until.
    pub albs: HashMap<String, Instant>,
    /// ECS service name → reason: every deployment of it fails (the test hook).
    pub forced_failures: HashMap<String, String>,
    /// ECS service name → its current deployment failed.
    pub failing: HashMap<String, Failure>,
    /// Synthesized stopped tasks by ARN.
    pub synthetic_tasks: HashMap<String, Value>,
    /// The ECS data plane emulation's services.
    pub ecs: HashMap<crate::ecs::Key, crate::ecs::EcsService>,
    /// Target group ARN → its deregistration delay (ModifyTargetGroupAttributes).
    pub deregistration_delay: HashMap<String, std::time::Duration>,
    /// Production listener rule → the weights the ECS emulation last wrote on it
    /// (`ecs_weights`).
    pub pushed: HashMap<String, Vec<(String, f64)>>,
    /// In a fresh account: when `AWSServiceRoleForECS` was created.
    pub ecs_service_linked_role: Option<Instant>,
}

#[derive(Clone, Debug, Default)]
pub struct TaskDef {
    pub arn: String,
    /// IAM role ARNs (execution and task role).
    pub roles: Vec<String>,
    pub containers: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Service {
    pub arn: String,
    pub cluster_arn: String,
    pub task_definition: String,
}

#[derive(Clone, Debug)]
pub struct Failure {
    pub task_arns: Vec<String>,
}

/// What a situational rule needs besides the world.
pub struct Ctx<'a> {
    pub cfg: &'a FaultConfig,
    pub now: Instant,
    pub dice: &'a mut Dice,
}

impl World {
    pub fn until(map_value: Option<&Instant>, now: Instant) -> bool {
        map_value.is_some_and(|t| now < *t)
    }

    /// A task definition by ARN, `family:revision` or family.
    pub fn task_def(&self, reference: &str) -> Option<&TaskDef> {
        self.task_defs.get(reference).or_else(|| {
            let short = reference.rsplit('/').next().unwrap_or(reference);
            self.task_defs
                .values()
                .find(|t| t.arn.ends_with(&format!("/{short}")))
                .or_else(|| self.task_defs.get(short))
        })
    }
}

/// The name part of an ARN (`arn:aws:iam::1:role/path/name` → `name`).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

/// Response body as JSON, or `Null`.
pub fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Response body as text, for XML.
pub fn text(body: &[u8]) -> &str {
    std::str::from_utf8(body).unwrap_or("")
}
