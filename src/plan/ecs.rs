//! Pure data for the deploy resources: a task definition's content, an ECS service's
//! settings and what DescribeServices reports.

use std::collections::BTreeMap;

use serde::Serialize;

use super::desired::{token, token_previous};
use super::resource::{Key, Kind};

/// A task definition's content, normalized so desired and observed compare as equal when
/// registering it again would change nothing. Other resources appear by ARN or name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskDef {
    pub cpu: u32,
    pub memory: u32,
    pub execution_role: String,
    pub task_role: String,
    /// `repo@sha256:…`; `None` while not built yet (plan), which compares as unchanged.
    pub image: Option<String>,
    pub port: u16,
    pub environment: BTreeMap<String, String>,
    /// Variable → SSM parameter ARN. Values never appear in a task definition.
    pub secrets: BTreeMap<String, String>,
    pub log_group: String,
    pub log_region: String,
    /// The container's own health probe (`CMD`, …); empty: none. Unknown until built.
    pub health_command: Option<Vec<String>>,
    pub stop_timeout: i32,
    pub user: String,
    pub read_only_root: bool,
    /// Writable scratch volumes: name → mount path.
    pub volumes: BTreeMap<String, String>,
}

/// An ECS service on Fargate, behind the load balancer when public.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec {
    pub cluster: Key,
    pub task_definition: Key,
    /// The count it runs; with autoscaling, only the count it starts with.
    pub desired: i32,
    /// Autoscaling sets the running count: `up` leaves it.
    pub scaled: bool,
    pub subnets: Vec<Key>,
    pub security_group: Key,
    /// Target group and the listener (or rules) that must exist before ECS accepts it.
    pub target_group: Option<(Key, Key)>,
    /// The Cloud Map service ECS registers its tasks in, when others call it.
    pub registry: Option<Key>,
    pub container: String,
    pub port: i32,
    pub grace_seconds: i32,
    /// How ECS deploys it (`deploy:`).
    pub deploy: crate::config::Deploy,
    /// With two target groups (it deploys, or deployed, blue/green, canary or linear): the
    /// other one; `target_group` is then the one production is on.
    pub alternate: Option<Key>,
    /// The role ECS changes the load balancer's rules with, when `deploy` shifts traffic: its
    /// key, and its ARN (what ECS is given; an IAM role's id here is its name).
    pub infrastructure_role: Option<(Key, String)>,
}

/// What DescribeServices says, reduced to what the diff and the rollout watcher need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceState {
    pub status: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub public_ip: bool,
    pub target_group: Option<String>,
    pub registry: Option<String>,
    pub container: Option<String>,
    pub port: Option<i32>,
    pub grace_seconds: i32,
    pub min_percent: i32,
    pub max_percent: i32,
    pub circuit_breaker: bool,
    pub rollback: bool,
    pub deployments: Vec<Deployment>,
    /// `deploymentConfiguration.strategy` (empty: ECS's default, ROLLING), its bake time, and
    /// the canary's or linear steps' (percent, minutes).
    pub strategy: String,
    pub bake_minutes: Option<i32>,
    pub steps: Option<(f64, i32)>,
    /// The load balancer's `advancedConfiguration`: (alternate target group, production
    /// listener rule, role).
    pub advanced: Option<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub id: String,
    pub status: String,
    pub task_definition: String,
    pub rollout: String,
    pub rollout_reason: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed: i32,
}

/// A deployable image: pinned by digest, with the command that probes its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub reference: String,
    pub health_command: Option<Vec<String>>,
}

/// A service's token generations: the one in use, the one before (still accepted), and
/// the one before that (kept so a rollback one revision back still starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Generations {
    pub current: u32,
    pub previous: Option<u32>,
    pub retired: Option<u32>,
}

impl Generations {
    /// Rank the generations that exist: only consecutive ones are kept; anything else (left
    /// behind by a revocation or an interrupted rotation) is `None` and gets deleted.
    pub fn of(existing: &[u32]) -> Option<Generations> {
        let current = *existing.iter().max()?;
        let has = |g: u32| g > 0 && existing.contains(&g);
        let previous = has(current.wrapping_sub(1)).then(|| current - 1);
        let retired = previous.and_then(|p| has(p.wrapping_sub(1)).then(|| p - 1));
        Some(Generations {
            current,
            previous,
            retired,
        })
    }
    /// The logical key of generation `g`, by its rank.
    pub fn key(&self, service: &str, g: u32) -> Key {
        if g == self.current {
            token(service)
        } else if Some(g) == self.previous {
            token_previous(service)
        } else if Some(g) == self.retired {
            Key::new(Kind::Parameter, &format!("token-{service}-retired"))
        } else {
            Key::new(Kind::Parameter, &format!("token-{service}-old-{g}"))
        }
    }
}
