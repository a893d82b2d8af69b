//! `stackctl rollback`: a service back on its previous healthy revision (or the one named),
//! watched as `up` watches a deploy (engine::rollback).

use std::process::ExitCode;

use super::{Failure, connect, load, service_list, unknown_service};
use crate::cli::{Cli, RollbackArgs};
use crate::config::Stack;
use crate::engine::Progress;
use crate::engine::rollback::{RollbackError, roll_back};
use crate::lock;
use crate::plan::rollback::parse_to;

/// The service meant: the one named, or the stack's only one.
fn pick(stack: &Stack, named: Option<&str>) -> Result<String, Failure> {
    match named {
        Some(n) if !stack.services.contains_key(n) => Err(unknown_service(stack, n)),
        Some(n) => Ok(n.to_string()),
        None if stack.services.len() == 1 => {
            Ok(stack.services.keys().next().cloned().unwrap_or_default())
        }
        None => Err(Failure::Usage(format!(
            "name the service to roll back: {}",
            service_list(stack)
        ))),
    }
}

impl From<RollbackError> for Failure {
    fn from(e: RollbackError) -> Failure {
        match e {
            RollbackError::NotDeployed(_) => Failure::Other {
                message: e.to_string(),
                hint: Some("run `stackctl up` first".into()),
            },
            RollbackError::Refused { ref hint, .. } => Failure::Other {
                hint: Some(hint.clone()),
                message: e.to_string(),
            },
            RollbackError::Aws(e) => e.into(),
            RollbackError::Rollout(e) => e.into(),
        }
    }
}

pub async fn run(cli: &Cli, args: &RollbackArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let svc = pick(&stack, args.service.as_deref())?;
    let names = stack.names();
    // A bad `--to` is told before any AWS call.
    let to = args
        .to
        .as_deref()
        .map(|t| parse_to(t, &names.task_family(&svc)))
        .transpose()
        .map_err(Failure::Usage)?;
    let progress = Progress::on_stderr();
    let aws = connect(cli, &stack).await?;
    let lock = lock::acquire(&aws, &names, "rollback", args.lock.waiting(), |l| {
        progress.say(l)
    })
    .await?;
    let work = async {
        roll_back(&aws, &names, &svc, to, args.timeout.0, &progress)
            .await
            .map_err(Failure::from)
    };
    let (from, to) = lock.run(&aws, work).await?;
    let went = if to < from { "back" } else { "forward" };
    progress.say(&format!(
        "{svc} rolled {went} from revision {from} to {to} in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    progress.say(
        "`stackctl up` and `stackctl rotate-token` deploy stack.yaml's version again: fix the cause first (`stackctl plan` shows it).",
    );
    Ok(ExitCode::SUCCESS)
}
