//! Each command: load, observe, decide, act, report. Errors get their context here.

pub mod build;
pub mod check;
pub mod ci;
pub mod cost;
pub mod dev;
pub mod down;
pub mod explain;
pub mod logs;
pub mod manual;
pub mod plan;
pub mod policy;
pub mod rollback;
pub mod status;
pub mod token;
pub mod up;

use std::process::ExitCode;

use crate::aws::{self, Aws, AwsError};
use crate::cli::Cli;
use crate::config::{self, ConfigError, Stack};
use crate::engine::rollout::RolloutError;
use crate::engine::{ApplyError, EngineError};
use crate::image;
use crate::lock::LockError;

/// Exit codes: 0 ok, 1 failure, 2 invalid usage or stack.yaml.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything the engine's work failed with (AWS, apply, rollout, images, a blocked change).
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Usage(String),
    /// Two settings disagree and neither may be picked silently.
    #[error("{message}")]
    Conflict { message: String, hint: String },
    #[error("{message}")]
    Other {
        message: String,
        hint: Option<String>,
    },
}

/// The engine's causes convert through [`EngineError`], which lists each once.
macro_rules! through_engine {
    ($($cause:ty),*) => {$(
        impl From<$cause> for Failure {
            fn from(e: $cause) -> Failure {
                Failure::Engine(e.into())
            }
        }
    )*};
}
through_engine!(AwsError, ApplyError, RolloutError, image::Error);

/// The directory of the stack file (`.stackctl/` is made there).
pub fn stack_dir(cli: &Cli) -> std::path::PathBuf {
    cli.file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ".".into(), std::path::PathBuf::from)
}

impl From<crate::dev::DevError> for Failure {
    fn from(e: crate::dev::DevError) -> Failure {
        Failure::Other {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl From<LockError> for Failure {
    fn from(e: LockError) -> Failure {
        match e {
            LockError::Held { message, hint } => Failure::Other {
                message,
                hint: Some(hint),
            },
            LockError::Interrupted => Failure::Other {
                message: "interrupted".into(),
                hint: Some("run the command again: it resumes where this run stopped".into()),
            },
            LockError::Aws(e) => e.into(),
        }
    }
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Usage(_) | Failure::Conflict { .. } => EXIT_INVALID,
            _ => EXIT_FAILURE,
        }
    }

    /// Render for humans, with a hint where there is one; `verbose` adds the SDK's error chain.
    pub fn report(self, verbose: bool) {
        match self {
            Failure::Config(e) => eprintln!("{:?}", miette::Report::new(e)),
            Failure::Engine(e) => report_engine(e, verbose),
            Failure::Usage(m) => eprintln!("error: {m}"),
            Failure::Conflict { message, hint } => {
                eprintln!("error: {message}");
                eprintln!("hint: {hint}");
            }
            Failure::Other { message, hint } => {
                eprintln!("error: {message}");
                if let Some(h) = hint {
                    eprintln!("hint: {h}");
                }
            }
        }
    }
}

fn report_engine(e: EngineError, verbose: bool) {
    let detail = |e: &AwsError| {
        if let Some(d) = e.detail.as_deref().filter(|_| verbose) {
            eprintln!("detail: {d}");
        }
    };
    match e {
        EngineError::Aws(e) => {
            eprintln!("error: {e}");
            if let Some(h) = &e.hint {
                eprintln!("hint: {h}");
            }
            detail(&e);
        }
        EngineError::Apply(e) => {
            eprintln!("error: {e}");
            for (key, err) in &e.failed {
                eprintln!("  {key}: {err}");
                if let Some(h) = &err.hint {
                    eprintln!("    hint: {h}");
                }
                detail(err);
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
        EngineError::Rollout(e) => {
            eprintln!("error: {e}");
            for line in &e.details {
                eprintln!("  {line}");
            }
            eprintln!("hint: {}", e.hint);
        }
        EngineError::Image(e) => {
            eprintln!("error: {e}");
            match &e {
                image::Error::Compile { .. } => {
                    eprintln!("hint: the compiler's errors are above; fix them and run again")
                }
                image::Error::PlatformUnavailable { hint, .. } => eprintln!("hint: {hint}"),
                _ => {}
            }
        }
        EngineError::Blocked { what, reason } => {
            eprintln!("error: {what} cannot be updated in place");
            eprintln!("hint: {reason}");
        }
        EngineError::Scan(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint);
        }
        EngineError::NeedsAdministrator { role, .. } => {
            eprintln!("error: {e}");
            if role == "plan" {
                eprintln!(
                    "hint: nothing was changed. The plan role, for pull requests, only reads: deploys run with the deploy role"
                );
            } else {
                eprintln!(
                    "hint: nothing was changed. These change who may deploy from CI or what the deploy role may do (`ci:`, the domain, the roles' trust): run `stackctl up` once with administrator credentials (`stackctl policy` prints what they need), then CI deploys again"
                );
            }
        }
    }
}

/// The token `svc` accepts now (decrypted from SSM).
pub async fn current_token(aws: &Aws, stack: &Stack, svc: &str) -> Result<String, Failure> {
    let names = stack.names();
    let found = aws::ssm::find(aws, &names).await?;
    let g = aws::ssm::generations(&names, &found)
        .remove(svc)
        .ok_or_else(|| no_token(svc))?;
    Ok(aws::ssm::read(aws, &names.token_parameter(svc, g.current)).await?)
}

pub fn no_token(svc: &str) -> Failure {
    Failure::Other {
        message: format!("service `{svc}` has no token yet"),
        hint: Some("run `stackctl up` first: it creates the token".into()),
    }
}

/// A service name the stack does not have, with the names it has.
pub fn unknown_service(stack: &Stack, s: &str) -> Failure {
    Failure::Usage(format!(
        "no service `{s}` in the stack (services: {})",
        service_list(stack)
    ))
}

/// The stack's service names, for messages.
pub fn service_list(stack: &Stack) -> String {
    let names: Vec<&str> = stack.services.keys().map(String::as_str).collect();
    names.join(", ")
}

/// The AWS partition of a region (its ARNs' second field), without asking AWS.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Where `stackctl cost --refresh` keeps the prices it read.
pub fn prices_cache() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))?;
    Some(base.join("stackctl").join("prices.json"))
}

/// The prices plan and up estimate with: a damaged cache is said, and the built-in table used.
pub fn prices_or_built_in() -> crate::cost::Prices {
    crate::cost::Prices::load(prices_cache().as_deref()).unwrap_or_else(|e| {
        eprintln!("warning: {e}; using the built-in prices ({})", e.hint());
        crate::cost::Prices::built_in()
    })
}

pub fn load(cli: &Cli) -> Result<Stack, Failure> {
    Ok(config::load(&cli.file, cli.env.as_deref())?)
}

pub async fn connect(cli: &Cli, stack: &Stack) -> Result<Aws, Failure> {
    let (conf, region) = region(cli, stack).await?;
    Ok(Aws::with_region(&conf, &region)?)
}

/// The AWS configuration and the region to work in (no AWS call).
pub async fn region(cli: &Cli, stack: &Stack) -> Result<(aws_config::SdkConfig, String), Failure> {
    let conf = Aws::load(cli.profile.as_deref()).await;
    let ambient = conf.region().map(|r| r.to_string());
    let source = || aws::region_source(cli.profile.as_deref());
    let region = choose_region(cli, stack, ambient.as_deref(), source)?;
    Ok((conf, region))
}

/// The region to work in: `--region`, else stack.yaml's and the environment's when they agree
/// (or only one is set). Never one of two that disagree: a stack deployed in the wrong region
/// is a second stack.
fn choose_region(
    cli: &Cli,
    stack: &Stack,
    ambient: Option<&str>,
    source: impl Fn() -> String,
) -> Result<String, Failure> {
    match (cli.region.as_deref(), stack.region.as_deref(), ambient) {
        (Some(r), _, _) => Ok(r.to_string()),
        (None, Some(file), Some(env)) if file != env => Err(Failure::Conflict {
            message: format!(
                "{} says region {file}, but {} says {env}",
                cli.file.display(),
                source()
            ),
            hint: format!("pass --region {file} (or --region {env}), or make the two agree"),
        }),
        (None, Some(r), _) | (None, None, Some(r)) => Ok(r.to_string()),
        (None, None, None) => Err(aws::AwsError::config(
            "no AWS region configured",
            "set `region:` in stack.yaml, pass --region, or export AWS_REGION",
        )
        .into()),
    }
}

pub fn finish(result: Result<ExitCode, Failure>, verbose: bool) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(f) => {
            let code = f.exit_code();
            f.report(verbose);
            ExitCode::from(code)
        }
    }
}
