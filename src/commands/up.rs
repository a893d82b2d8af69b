//! `stackctl up`: build, observe, plan, apply, roll out; a converged stack costs reads only.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use super::build::{self, Local};
use super::{Failure, connect, load};
use crate::aws::Aws;
use crate::cli::{Cli, UpArgs};
use crate::config::Stack;
use crate::engine::rollout::{self, Rollout};
use crate::engine::{Progress, apply, observe};
use crate::lock;
use crate::plan::{self, Action, Kind, Observed, State, desired::desired};

pub async fn run(cli: &Cli, args: &UpArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let progress = Progress::new();
    let locals = build::build_all(&stack, None, &progress).await?;
    let aws = connect(cli, &stack).await?;
    progress.say(&format!(
        "stackctl up: stack {} (env {}) in {}",
        stack.name, stack.env, aws.region
    ));
    let names = stack.names();
    let mut seen = observe(&aws, &stack).await?;
    seen.facts.images = build::references(&stack, &seen.facts, &locals);
    let plan = plan::plan(&desired(&stack, &seen.facts), &seen.resources);
    // Converged and nobody else at work: no lock needed, so no write at all.
    let url = if plan.is_empty() && lock::peek(&aws, &names).await?.is_none() {
        progress.say(plan::render_text(&plan).trim_end());
        url_of(&seen.resources)
    } else {
        let lock = lock::acquire(&aws, &names, "up", &args.lock, |l| progress.say(l)).await?;
        let work = converge(&aws, &stack, Some(&locals), &progress, args.timeout.0);
        lock.run(&aws, work).await?
    };
    if let Some(url) = url {
        progress.say(&format!("URL: {url}"));
    }
    progress.say(&format!(
        "Done in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn url_of(resources: &[Observed]) -> Option<String> {
    resources.iter().find_map(|o| match &o.state {
        State::LoadBalancer { dns_name, .. } if !dns_name.is_empty() => {
            Some(format!("http://{dns_name}/"))
        }
        _ => None,
    })
}

/// Under the lock. Observed again: another run may have changed the stack since the first
/// look. Infrastructure first; then images are pushed; then task definitions and services
/// change, and each service touched is watched until it is healthy.
/// `locals`: the images just built; `None` keeps the images deployed now (a token rotation).
pub async fn converge(
    aws: &Aws,
    stack: &Stack,
    locals: Option<&BTreeMap<String, Local>>,
    progress: &Progress,
    timeout: Duration,
) -> Result<Option<String>, Failure> {
    let names = stack.names();
    let mut seen = observe(aws, stack).await?;
    seen.facts.images = match locals {
        Some(locals) => build::references(stack, &seen.facts, locals),
        None => build::deployed(&seen.resources),
    };
    let want = desired(stack, &seen.facts);
    let plan = plan::plan(&want, &seen.resources);
    if let Some(blocked) = plan.blocked().next() {
        print!("{}", plan::render_text(&plan));
        let Action::Blocked { reason } = &blocked.action else {
            unreachable!()
        };
        return Err(Failure::Other {
            message: format!(
                "{} {} cannot be updated in place",
                blocked.kind.label(),
                blocked.name
            ),
            hint: Some(reason.clone()),
        });
    }
    progress.say(plan::render_text(&plan).trim_end());
    let mut ids = plan::ids(&seen.resources);
    if plan.is_empty() {
        return Ok(url_of(&seen.resources));
    }
    let (first, second) = plan::split_deploys(&plan);
    if !first.is_empty() {
        ids = apply(aws, &names, &want, &seen.resources, &first, ids, progress).await?;
    }
    let registers = second
        .changes
        .iter()
        .any(|c| c.kind == Kind::TaskDefinition && !matches!(c.action, Action::Delete { .. }));
    if registers && let Some(locals) = locals {
        for (svc, local) in locals {
            build::push(aws, stack, svc, local, progress).await?;
        }
    }
    ids = apply(aws, &names, &want, &seen.resources, &second, ids, progress).await?;
    progress.say(&format!("Applied {} changes.", plan.changes.len()));

    let rollouts: Vec<Rollout> = second
        .changes
        .iter()
        .filter(|c| c.kind == Kind::Service && !matches!(c.action, Action::Delete { .. }))
        .filter_map(|c| {
            let svc = c.key.0.split_once('/')?.1.to_string();
            let before = seen.resources.iter().find_map(|o| match &o.state {
                State::Service(s) if o.key == c.key => Some(s.task_definition.clone()),
                _ => None,
            });
            Some(Rollout {
                arn: ids.get(&c.key)?.clone(),
                task_definition: ids.get(&plan::desired::task_definition(&svc))?.clone(),
                previous: before,
                target_group: ids.get(&plan::desired::target_group(&svc)).cloned(),
                log_group: names.log_group(&svc),
                service: svc,
            })
        })
        .collect();
    let results = futures::future::join_all(
        rollouts
            .iter()
            .map(|r| rollout::watch(aws, &names, r, timeout, progress)),
    )
    .await;
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e.into());
    }
    let lb = ids.get(&plan::desired::load_balancer()).cloned();
    Ok(match lb {
        Some(arn) => crate::aws::load_balancer::dns_name(aws, &arn)
            .await?
            .map(|d| format!("http://{d}/")),
        None => None,
    })
}
