//! A seeded fault-injecting HTTP proxy between the AWS SDK and moto, reproducing what real
//! AWS does and moto does not: throttling, 5xx, resets, slow and lost responses, eventual
//! consistency, IAM propagation, `DependencyViolation`, ALBs provisioning and failing ECS
//! deployments. It also emulates the ECS data plane moto lacks (rollouts, draining, target
//! health, a service's tasks and StopTask). Point `AWS_ENDPOINT_URL` at [`ProxyHandle::url`].

mod alb;
pub mod classify;
pub mod config;
mod consistency;
mod decide;
mod dependency;
mod deploy;
mod ecs;
mod ecs_history;
mod ecs_history_calls;
mod ecs_learn;
mod ecs_shift;
mod ecs_stop;
mod ecs_strategy;
mod ecs_task_calls;
mod ecs_tasks;
mod ecs_view;
mod handler;
mod refusals;
mod roles;
mod server;
pub mod stats;
pub mod wire;
mod world;
mod xml;
mod zones;

pub use config::{Chance, DeployFailure, FaultConfig, Profile, Rule, Weights};
pub use server::{Proxy, ProxyHandle};
pub use stats::{FaultKind, FaultRecord, Stats};
pub use url::Url;
