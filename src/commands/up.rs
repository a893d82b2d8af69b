//! `stackctl up`: observe, plan, apply; a converged stack costs reads only.

use std::process::ExitCode;

use super::{Failure, connect, load};
use crate::cli::{Cli, UpArgs};
use crate::engine::{Progress, apply, observe};
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, _args: &UpArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let progress = Progress::new();
    progress.say(&format!(
        "stackctl up: stack {} (env {}) in {}",
        stack.name, stack.env, aws.region
    ));
    let seen = observe(&aws, &stack).await?;
    let want = desired(&stack, &seen.facts);
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
    if plan.is_empty() {
        progress.say(&plan::render_text(&plan).trim_end().to_string());
    } else {
        progress.say(plan::render_text(&plan).trim_end());
        apply(
            &aws,
            &stack.names(),
            &want,
            &seen.resources,
            &plan,
            &progress,
        )
        .await?;
        progress.say(&format!("Applied {} changes.", plan.changes.len()));
    }
    progress.say(&format!(
        "Done in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    Ok(ExitCode::SUCCESS)
}
