//! `stackctl check`'s arguments.

use clap::{Args, Subcommand};

use super::{Output, Timeout, amount, load_duration, request_timeout};

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(subcommand)]
    pub check: CheckKind,
}

#[derive(Subcommand, Debug)]
pub enum CheckKind {
    /// Health answers; the token is accepted, a missing or wrong one refused (401); the
    /// payments API's contract on a record of its own, removed after. Exit 1 on a failure.
    Smoke(TargetArgs),
    /// Requests at a constant rate for a while (a slow service never slows the generator),
    /// with progress each second, then failures by kind, latency p50/p90/p99/max and a
    /// verdict against the limits (here or in stack.yaml's `checks.load`). Exit 1 if not kept.
    Load(LoadArgs),
    /// Load while one of the service's tasks is stopped through ECS (StopTask): the failed
    /// requests and the time until the service runs its full count again. Exit 1 on a
    /// failed request.
    Resilience(ResilienceArgs),
}

/// What a check calls.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// The URL to call (default: the stack's own, from its domain or load balancer).
    #[arg(long)]
    pub url: Option<String>,
    /// The service (default: the public one that takes `/`).
    #[arg(long)]
    pub service: Option<String>,
    /// The stack `stackctl dev` runs on this machine: its front (http://127.0.0.1:3000/ unless
    /// --url) and its local token; no AWS call.
    #[arg(long)]
    pub dev: bool,
    /// Give up on a request after this long (1s to 10m).
    #[arg(long, default_value = "10s", value_parser = request_timeout)]
    pub request_timeout: Timeout,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requests a second (default: `checks.load.rate`, else 20).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub rate: Option<u32>,
    /// How long, 1s to 1h (default: `checks.load.duration`, else 30s).
    #[arg(long, value_parser = load_duration)]
    pub duration: Option<Timeout>,
    /// The path to GET (default: `/` with the token when the service has one, else its
    /// health path).
    #[arg(long)]
    pub path: Option<String>,
    /// Failed requests allowed, in percent (default: `checks.load.max_errors_percent`, else 0).
    #[arg(long, value_parser = amount)]
    pub max_errors: Option<f64>,
    /// The p99 latency allowed, in ms (default: `checks.load.max_p99_ms`, else no limit).
    #[arg(long, value_parser = amount)]
    pub max_p99: Option<f64>,
}

#[derive(Args, Debug)]
pub struct ResilienceArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requests a second while the task stops and is replaced.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub rate: u32,
    /// Give up waiting for the service to be back to its full count after this long.
    #[arg(long, default_value = "10m")]
    pub timeout: Timeout,
}
