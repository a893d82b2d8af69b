//! Integration tests: the AWS SDK talking to moto through the proxy.
//! Need `STACKCTL_TEST_MOTO` (set by ./scripts/test.sh); skipped without it unless
//! `STACKCTL_TEST_REQUIRE_SERVICES=1`, which makes them fail.

mod common;
mod deployments;
mod determinism;
mod ecs_emulation;
mod ecs_strategies;
mod ecs_strategy_setup;
mod ecs_targets;
mod passthrough;
mod protocols;
mod refusals;
mod sdk_faults;
mod situational;
