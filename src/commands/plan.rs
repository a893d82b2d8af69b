//! `stackctl plan`: what `up` would change, for humans or scripts.

use std::process::ExitCode;

use super::{Failure, connect, load, prices_or_built_in};
use crate::cli::{Cli, Output, PlanArgs};
use crate::cost::estimate;
use crate::engine::observe;
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, args: &PlanArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let mut seen = observe(&aws, &stack).await?;
    let want = desired(&stack, seen.plannable()?);
    let plan = plan::plan(&want, &seen.resources);
    let prices = prices_or_built_in();
    let (now, after) = plan::cost::change(&aws.region, &prices, &want, &seen.resources);
    match args.output {
        Output::Text => {
            print!("{}", plan::render_text(&plan));
            print!("{}", estimate::render_change(&now, &after, &prices));
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
        Output::Json => {
            let mut out = plan::render_json(&plan);
            out["cost"] = estimate::render_change_json(&now, &after, &prices);
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("plan serializes")
            )
        }
    }
    Ok(ExitCode::from(
        if args.detailed_exitcode && !plan.is_empty() {
            2
        } else {
            0
        },
    ))
}
