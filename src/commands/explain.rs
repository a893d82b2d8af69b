//! `stackctl explain`: every resource of the stack with the settings stackctl sends, in the
//! order `up` creates them and `down` deletes them. Reads stack.yaml only.

use std::process::ExitCode;

use super::{Failure, load, partition};
use crate::cli::{Cli, ExplainArgs};
use crate::engine::explain::{explain, placeholder_facts};
use crate::plan::desired::desired;

pub fn run(cli: &Cli, args: &ExplainArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let region = cli
        .region
        .clone()
        .or_else(|| stack.region.clone())
        .unwrap_or_else(|| "REGION".into());
    let facts = placeholder_facts(&stack, &region, partition(&region), &args.account);
    let want = desired(&stack, &facts);
    print!("{}", explain(&want, &facts, &stack.name, &stack.env));
    Ok(ExitCode::SUCCESS)
}
