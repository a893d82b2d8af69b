//! Each command: load, observe, decide, act, report. Errors get their context here.

pub mod build;
pub mod down;
pub mod logs;
pub mod plan;
pub mod status;
pub mod token;
pub mod up;

use std::process::ExitCode;

use crate::aws::{Aws, AwsError};
use crate::cli::Cli;
use crate::config::{self, ConfigError, Stack};
use crate::engine::ApplyError;
use crate::engine::rollout::RolloutError;

/// Exit codes: 0 ok, 1 failure, 2 invalid usage or stack.yaml.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Rollout(#[from] RolloutError),
    #[error("{0}")]
    Usage(String),
    #[error("{message}")]
    Other {
        message: String,
        hint: Option<String>,
    },
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Usage(_) => EXIT_INVALID,
            _ => EXIT_FAILURE,
        }
    }

    /// Render for humans, with a hint where there is one.
    pub fn report(self) {
        match self {
            Failure::Config(e) => eprintln!("{:?}", miette::Report::new(e)),
            Failure::Aws(e) => {
                eprintln!("error: {e}");
                if let Some(h) = &e.hint {
                    eprintln!("hint: {h}");
                }
            }
            Failure::Apply(e) => {
                eprintln!("error: {e}");
                for (key, err) in &e.failed {
                    eprintln!("  {key}: {err}");
                    if let Some(h) = &err.hint {
                        eprintln!("    hint: {h}");
                    }
                }
                if !e.skipped.is_empty() {
                    eprintln!(
                        "  not attempted (they depend on what failed): {}",
                        e.skipped.join(", ")
                    );
                }
                eprintln!(
                    "hint: fix the cause and run the command again: it resumes where this run stopped"
                );
            }
            Failure::Rollout(e) => {
                eprintln!("error: {e}");
                for line in &e.details {
                    eprintln!("  {line}");
                }
                eprintln!("hint: {}", e.hint);
            }
            Failure::Usage(m) => eprintln!("error: {m}"),
            Failure::Other { message, hint } => {
                eprintln!("error: {message}");
                if let Some(h) = hint {
                    eprintln!("hint: {h}");
                }
            }
        }
    }
}

pub fn load(cli: &Cli) -> Result<Stack, Failure> {
    Ok(config::load(&cli.file, cli.env.as_deref())?)
}

pub async fn connect(cli: &Cli, stack: &Stack) -> Result<Aws, Failure> {
    let region = cli.region.as_deref().or(stack.region.as_deref());
    Ok(Aws::connect(cli.profile.as_deref(), region).await?)
}

pub fn finish(result: Result<ExitCode, Failure>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(f) => {
            let code = f.exit_code();
            f.report();
            ExitCode::from(code)
        }
    }
}
