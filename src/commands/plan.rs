//! `stackctl plan`: what `up` would change, for humans or scripts.

use std::process::ExitCode;

use super::{Failure, connect, load};
use crate::cli::{Cli, Output, PlanArgs};
use crate::engine::observe;
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, args: &PlanArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let mut seen = observe(&aws, &stack).await?;
    let want = desired(&stack, seen.plannable()?);
    let plan = plan::plan(&want, &seen.resources);
    match args.output {
        Output::Text => {
            print!("{}", plan::render_text(&plan));
            if stack
                .services
                .values()
                .any(|s| matches!(s.source, crate::config::Source::Build(_)))
            {
                println!(
                    "Images are built by `up` (or `stackctl build`): a source change shows there as a new task definition revision."
                );
            }
            eprintln!("{}", aws.calls.summary());
        }
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan::render_json(&plan)).expect("plan serializes")
        ),
    }
    Ok(ExitCode::from(
        if args.detailed_exitcode && !plan.is_empty() {
            2
        } else {
            0
        },
    ))
}
