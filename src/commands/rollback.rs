//! `stackctl rollback`: a service back on its previous healthy revision (or the one named),
//! watched as `up` watches a deploy. The rolling update starts the old revision's tasks
//! before it stops the current ones, so no request fails.

use std::process::ExitCode;

use super::{Failure, connect, load, service_list, unknown_service};
use crate::aws;
use crate::cli::{Cli, RollbackArgs};
use crate::config::Stack;
use crate::engine::Progress;
use crate::engine::history::{self, SHOWN};
use crate::engine::rollout::{self, Rollout};
use crate::lock;
use crate::plan::State;
use crate::plan::rollback::{self as pick_revision, Candidate, revision_of};

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

pub async fn run(cli: &Cli, args: &RollbackArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let svc = pick(&stack, args.service.as_deref())?;
    let progress = Progress::on_stderr();
    let aws = connect(cli, &stack).await?;
    let names = stack.names();
    let lock = lock::acquire(&aws, &names, "rollback", args.lock.waiting(), |l| {
        progress.say(l)
    })
    .await?;
    let (from, to) = lock
        .run(&aws, roll_back(&aws, &stack, &svc, args, &progress))
        .await?;
    progress.say(&format!(
        "{svc} rolled back from revision {from} to {to} in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    progress.say(
        "`stackctl up` deploys stack.yaml's version again: fix the cause first (`stackctl plan` shows it).",
    );
    Ok(ExitCode::SUCCESS)
}

/// The revisions the service can go back to, for a hint.
fn usable_list(candidates: &[Candidate]) -> String {
    let ok: Vec<String> = candidates
        .iter()
        .filter(|c| c.blocked.is_none())
        .map(|c| c.revision.to_string())
        .collect();
    if ok.is_empty() {
        "no earlier revision can serve now: fix the release and run `stackctl up`".into()
    } else {
        format!(
            "revisions it can go back to: {} (`stackctl rollback --to N`; `stackctl status` lists the last {SHOWN} healthy ones)",
            ok.join(", ")
        )
    }
}

/// Under the lock: choose, check, update the service, watch. (from, to) revision numbers.
async fn roll_back(
    aws: &aws::Aws,
    stack: &Stack,
    svc: &str,
    args: &RollbackArgs,
    progress: &Progress,
) -> Result<(i32, i32), Failure> {
    let names = stack.names();
    let ecs_name = names.ecs_service(svc);
    let found = aws::service::describe(aws, &names, &[ecs_name]).await?;
    let Some((arn, State::Service(state))) = found.into_iter().next().map(|o| (o.id, o.state))
    else {
        return Err(Failure::Other {
            message: format!("service `{svc}` is not deployed"),
            hint: Some("run `stackctl up` first".into()),
        });
    };
    let running = state.task_definition.clone();
    let family = names.task_family(svc);
    let from = revision_of(&running).unwrap_or_default();
    let candidates = history::candidates(aws, &names, svc, &arn, &running).await?;
    let to = args
        .to
        .as_deref()
        .map(|t| pick_revision::parse_to(t, &family))
        .transpose()
        .map_err(Failure::Usage)?;
    let cannot = |why: String| Failure::Other {
        message: format!("cannot roll back {svc}: {why}"),
        hint: Some(usable_list(&candidates)),
    };
    let n = pick_revision::choose(&candidates, from, to).map_err(cannot)?;
    let existing = history::token_generations(aws, &names, svc).await?;
    let target = history::usable(aws, &names, svc, &format!("{family}:{n}"), &existing)
        .await?
        .map_err(|why| cannot(format!("revision {n}: {why}")))?;
    progress.say(&format!(
        "rolling {svc} back from revision {from} to {n} (it ran healthy before; the current one is kept registered)"
    ));
    aws::service::roll_back(aws, &names, &arn, &target).await?;
    let watched = Rollout {
        service: svc.to_string(),
        arn,
        task_definition: target,
        previous: Some(running),
        target_group: state.target_group.clone(),
        log_group: names.log_group(svc),
    };
    rollout::watch(aws, &names, &watched, args.timeout.0, progress).await?;
    Ok((from, n))
}
