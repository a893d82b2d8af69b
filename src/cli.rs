//! Command-line surface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cost::Assumptions;

mod check;
mod ci;
pub use check::{CheckArgs, CheckKind, LoadArgs, ResilienceArgs, TargetArgs};
pub use ci::{CiArgs, CiGithubArgs, CiKind, CompletionsArgs};

/// The port `stackctl dev`'s front listens on by default.
pub const DEV_PORT: u16 = 3000;

#[derive(Parser, Debug)]
#[command(
    name = "stackctl",
    version,
    about = "From an empty AWS account to a production-shaped web service in one command, and back."
)]
pub struct Cli {
    /// The stack file.
    #[arg(
        long,
        global = true,
        default_value = "stack.yaml",
        env = "STACKCTL_FILE"
    )]
    pub file: PathBuf,
    /// Environment overlay from the stack file's `environments:`.
    #[arg(long, short = 'e', global = true, env = "STACKCTL_ENV")]
    pub env: Option<String>,
    /// AWS profile (else AWS_PROFILE / default).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (else stack.yaml's `region:`, AWS_REGION or the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// On errors, also print the AWS SDK's whole error chain.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show what `up` would change. Exit 0; with --detailed-exitcode 0 = no changes, 2 = changes, 1 = error.
    Plan(PlanArgs),
    /// Create or update everything the stack declares, deploy the images, wait until healthy.
    Up(UpArgs),
    /// Build service images without Docker (and with --push, push them to ECR).
    Build(BuildArgs),
    /// Every resource, the services' deployments, target health and the URL.
    Status(StatusArgs),
    /// Print (or follow) a service's logs.
    Logs(LogsArgs),
    /// Change a service's API token and roll the service with no failed requests.
    RotateToken(RotateArgs),
    /// Print a service's current API token (decrypted from SSM).
    Token(TokenArgs),
    /// Put a service back on its previous healthy revision (or `--to` one), with no failed
    /// requests, and wait until it is healthy; `status` lists the revisions it can go back to.
    Rollback(RollbackArgs),
    /// Delete everything the stack owns.
    Down(DownArgs),
    /// Run every service on this machine as in the cloud (no AWS account needed): a front on
    /// one port routing as the load balancer does, local tokens and database.
    Dev(DevArgs),
    /// What the stack costs a month, line by line, from stack.yaml and the price table (no
    /// AWS call; --refresh reads the region's current prices from the AWS Price List API).
    Cost(CostArgs),
    /// Call the deployed stack as its users do: `smoke` (the contract, once), `load` (a
    /// constant arrival rate, latency and failures), `resilience` (load while a task stops).
    Check(CheckArgs),
    /// Print the IAM policy a person needs to run stackctl on this stack (no AWS call).
    Policy(PolicyArgs),
    /// Print every resource the stack would have, in the order `up` creates them and `down`
    /// deletes them, with the settings stackctl sends (Markdown; no AWS call).
    Explain(ExplainArgs),
    /// Write the CI/CD workflows for the repository: `stackctl ci github` (pull requests
    /// plan, the deploy branch deploys, with stack.yaml's `ci:` roles and no stored key).
    Ci(CiArgs),
    /// Print a shell's completion script: `stackctl completions bash > ~/.local/share/bash-completion/completions/stackctl`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `stackctl man > ~/.local/share/man/man1/stackctl.1`.
    Man,
    /// Check stack.yaml without calling AWS.
    Validate,
    /// Print the JSON Schema of stack.yaml (for editors).
    Schema,
}

#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// The account ID to scope resources to (default `*`: any account).
    #[arg(long)]
    pub account: Option<String>,
    /// Print part N of a policy too long for one managed policy (IAM allows 6,144 characters
    /// each); attach every part.
    #[arg(long, value_name = "N")]
    pub part: Option<usize>,
    /// Print what a CI role holds instead (`ci:` in stack.yaml): `deploy` (the deploy job's
    /// `up`, `build`, `status`, `check`) or `plan` (pull requests' `plan`: reads only).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<CiRole>,
}

/// A role CI assumes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiRole {
    Deploy,
    Plan,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The account ID to show in ARNs (default: AWS's documentation example, 123456789012).
    #[arg(long, default_value = "123456789012")]
    pub account: String,
}

#[derive(Args, Debug)]
pub struct CostArgs {
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// First read the region's prices from the AWS Price List API (needs credentials allowed
    /// `pricing:GetProducts`) and keep them for later estimates, plan and up included.
    #[arg(long)]
    pub refresh: bool,
    /// Hours a month the stack runs (730: all month).
    #[arg(long, default_value_t = Assumptions::default().hours, value_parser = hours)]
    pub hours: f64,
    /// Load balancer capacity units used on average (1 LCU: about 25 new connections a
    /// second, 3,000 open connections or 1 GB an hour).
    #[arg(long, default_value_t = Assumptions::default().lcu, value_parser = amount)]
    pub lcu: f64,
    /// GB of logs each service writes a month.
    #[arg(long, default_value_t = Assumptions::default().log_gb, value_parser = amount)]
    pub log_gb: f64,
    /// Size of one image in MB.
    #[arg(long, default_value_t = Assumptions::default().image_mb, value_parser = amount)]
    pub image_mb: f64,
}

impl CostArgs {
    pub fn assumptions(&self) -> Assumptions {
        Assumptions {
            hours: self.hours,
            lcu: self.lcu,
            log_gb: self.log_gb,
            image_mb: self.image_mb,
        }
    }
}

/// A duration within `range`.
pub(crate) fn within(
    s: &str,
    range: std::ops::RangeInclusive<std::time::Duration>,
) -> Result<Timeout, String> {
    let d = crate::clock::parse_duration(s)?;
    match range.contains(&d) {
        true => Ok(Timeout(d)),
        false => Err(format!(
            "`{s}`: give {}s to {}s",
            range.start().as_secs(),
            range.end().as_secs()
        )),
    }
}

pub(crate) fn load_duration(s: &str) -> Result<Timeout, String> {
    within(s, crate::config::LOAD_DURATION)
}

pub(crate) fn request_timeout(s: &str) -> Result<Timeout, String> {
    use std::time::Duration;
    within(s, Duration::from_secs(1)..=Duration::from_secs(600))
}

pub(crate) fn amount(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a number of 0 or more")),
    }
}

fn hours(s: &str) -> Result<f64, String> {
    match amount(s)? {
        h if h <= 744.0 => Ok(h),
        _ => Err(format!("`{s}`: a month has at most 744 hours")),
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Exit 2 when there are changes (and 1 on any error, invalid stack.yaml included).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub lock: LockArgs,
    /// Give up waiting for a healthy rollout after this long (e.g. 90s, 15m, 1h); the
    /// service is put back on its last healthy revision.
    #[arg(long, default_value = "15m")]
    pub timeout: Timeout,
    /// Stop before any task definition changes when ECR's scan of a pushed image finds
    /// something this severe or worse, or cannot tell (the image not scanned, or still
    /// scanning after --scan-wait).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// How long to wait for ECR's scan of each pushed image.
    #[arg(long, default_value = "3m")]
    pub scan_wait: Timeout,
}

/// The severity `up --fail-on` stops at.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Critical,
    High,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Only this service (default: all).
    pub service: Option<String>,
    /// Also push to the service's ECR repository (which `up` creates).
    #[arg(long)]
    pub push: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The service (may be omitted when the stack has one).
    pub service: Option<String>,
    /// Keep printing new lines as they arrive (Ctrl-C to stop).
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Start this long ago (e.g. 30s, 10m, 2h).
    #[arg(long, default_value = "10m")]
    pub since: Timeout,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The service (may be omitted when the stack has one service with a token).
    pub service: Option<String>,
    /// Print the new token on standard output (once).
    #[arg(long, conflicts_with = "output_file")]
    pub show: bool,
    /// Write the new token to this file (created with mode 600; must not exist).
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Read the new token from standard input instead of generating one.
    #[arg(long)]
    pub value_from_stdin: bool,
    /// Stop accepting the previous token (for a leaked token): only the new one works.
    #[arg(long)]
    pub revoke_previous: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Give up waiting for the rollout after this long.
    #[arg(long, default_value = "15m")]
    pub timeout: Timeout,
}

#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// The service (may be omitted when the stack has one service).
    pub service: Option<String>,
    /// The revision to go back to (`7`, `family:7` or its ARN) instead of the previous healthy
    /// one.
    #[arg(long, value_name = "REVISION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Give up waiting for the rollout after this long (the service then goes back to the
    /// revision it ran before).
    #[arg(long, default_value = "15m")]
    pub timeout: Timeout,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// The service (may be omitted when the stack has one service with a token).
    pub service: Option<String>,
    /// The local token `stackctl dev` gives the service (from .stackctl/dev/tokens/).
    #[arg(long)]
    pub dev: bool,
}

#[derive(Args, Debug)]
pub struct DevArgs {
    /// The front's port on 127.0.0.1 (it plays the load balancer).
    #[arg(long, default_value_t = DEV_PORT)]
    pub port: u16,
    /// Rebuild and restart a service when its sources change.
    #[arg(long)]
    pub watch: bool,
    /// Restart a service that does not answer its health check for this long after it starts.
    #[arg(long, default_value = "60s")]
    pub health_timeout: Timeout,
    /// Run each service's image (built as `up` builds it, or its `image:`) in podman or
    /// Docker, as Fargate runs it, instead of its binary as a process.
    #[arg(long)]
    pub containers: bool,
}

/// A duration written as `90s`, `15m`, `1h` or plain seconds.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Timeout(pub std::time::Duration);

impl std::str::FromStr for Timeout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::clock::parse_duration(s).map(Timeout)
    }
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete the database without its final snapshot: its data is gone for good. Asks to
    /// type the database's name in a terminal; `--yes` does not imply it.
    #[arg(long)]
    pub delete_data: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// The run lock (an SSM parameter): one `up` or `down` of a stack at a time.
#[derive(Args, Debug, Clone, Default)]
pub struct LockArgs {
    /// Wait this long for another run's lock before giving up (e.g. 90s, 10m; 0: at once).
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub lock_timeout: Timeout,
    /// Break the lock left by a run that crashed or was killed (says whose lock it broke).
    #[arg(long)]
    pub force_unlock: bool,
}

impl LockArgs {
    pub fn waiting(&self) -> crate::lock::Waiting {
        crate::lock::Waiting {
            timeout: self.lock_timeout.0,
            force: self.force_unlock,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}
