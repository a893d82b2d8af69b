//! `stackctl up`: build, observe, plan, apply, roll out; a converged stack costs reads only.

use std::process::ExitCode;

use super::{Failure, connect, load, prices_or_built_in};
use crate::aws::scan::Severity;
use crate::cli::{Cli, FailOn, UpArgs};
use crate::engine::converge::{converge, url_of, within_ci_role};
use crate::engine::scan::Gate;
use crate::engine::{Progress, images, observe};
use crate::lock;
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, args: &UpArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let progress = Progress::new();
    let locals = images::build_all(&stack, None, &progress).await?;
    let aws = connect(cli, &stack).await?;
    progress.say(&format!(
        "stackctl up: stack {} (env {}) in {}",
        stack.name, stack.env, aws.region
    ));
    let names = stack.names();
    let prices = prices_or_built_in();
    let mut seen = observe(&aws, &stack).await?;
    seen.plannable()?;
    seen.facts.images = images::references(&stack, &seen.facts, &locals);
    let plan = plan::plan(&desired(&stack, &seen.facts), &seen.resources);
    within_ci_role(&names, &seen.caller, &plan)?;
    // Converged and nobody else at work: no lock needed, so no write at all.
    let url = if plan.is_empty() && lock::peek(&aws, &names).await?.is_none() {
        progress.say(plan::render_text(&plan).trim_end());
        url_of(&seen.resources)
    } else {
        let lock =
            lock::acquire(&aws, &names, "up", args.lock.waiting(), |l| progress.say(l)).await?;
        let gate = Gate {
            fail_on: args.fail_on.map(|f| match f {
                FailOn::Critical => Severity::Critical,
                FailOn::High => Severity::High,
            }),
            wait: args.scan_wait.0,
        };
        let work = async {
            converge(
                &aws,
                &stack,
                Some(&locals),
                Some(&prices),
                Some(gate),
                &progress,
                args.timeout.0,
            )
            .await
            .map_err(Failure::from)
        };
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
