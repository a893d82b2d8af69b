//! `stackctl up`: observe, plan, apply; a converged stack costs reads only.

use std::process::ExitCode;

use super::{Failure, connect, load};
use crate::aws::Aws;
use crate::cli::{Cli, UpArgs};
use crate::config::Stack;
use crate::engine::{Progress, apply, observe};
use crate::lock;
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, args: &UpArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let progress = Progress::new();
    progress.say(&format!(
        "stackctl up: stack {} (env {}) in {}",
        stack.name, stack.env, aws.region
    ));
    let names = stack.names();
    let seen = observe(&aws, &stack).await?;
    let plan = plan::plan(&desired(&stack, &seen.facts), &seen.resources);
    // Converged and nobody else at work: no lock needed, so no write at all.
    if plan.is_empty() && lock::peek(&aws, &names).await?.is_none() {
        progress.say(plan::render_text(&plan).trim_end());
    } else {
        let lock = lock::acquire(&aws, &names, "up", &args.lock, |l| progress.say(l)).await?;
        lock.run(&aws, converge(&aws, &stack, &progress)).await?;
    }
    progress.say(&format!(
        "Done in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Under the lock. Observed again: another run may have changed the stack since the first look.
async fn converge(aws: &Aws, stack: &Stack, progress: &Progress) -> Result<(), Failure> {
    let seen = observe(aws, stack).await?;
    let want = desired(stack, &seen.facts);
    let plan = plan::plan(&want, &seen.resources);
    if let Some(blocked) = plan.blocked().next() {
        print!("{}", plan::render_text(&plan));
        let plan::Action::Blocked { reason } = &blocked.action else {
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
    if !plan.is_empty() {
        apply(aws, &stack.names(), &want, &seen.resources, &plan, progress).await?;
        progress.say(&format!("Applied {} changes.", plan.changes.len()));
    }
    Ok(())
}
