//! Command-line surface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
        short = 'f',
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show what `up` would change. Exit 0; with --detailed-exitcode 0 = no changes, 2 = changes, 1 = error.
    Plan(PlanArgs),
    /// Create or update everything the stack declares.
    Up(UpArgs),
    /// Delete everything the stack owns.
    Down(DownArgs),
    /// Check stack.yaml without calling AWS.
    Validate,
    /// Print the JSON Schema of stack.yaml (for editors).
    Schema,
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
pub struct UpArgs {}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}
