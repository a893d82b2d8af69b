//! `stackctl policy`: the IAM policy to run stackctl on this stack, from the one table in
//! `aws::permissions`, scoped to its names. Reads stack.yaml only.

use std::process::ExitCode;

use super::{Failure, load, partition};
use crate::aws::permissions::{Target, policy, render};
use crate::cli::{Cli, PolicyArgs};

pub fn run(cli: &Cli, args: &PolicyArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let region = cli
        .region
        .as_deref()
        .or(stack.region.as_deref())
        .unwrap_or("*");
    let account = args.account.as_deref().unwrap_or("*");
    if account != "*" && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Failure::Usage(format!(
            "--account {account:?} is not an AWS account ID (12 digits)"
        )));
    }
    let doc = policy(&Target {
        partition: partition(region),
        region,
        account,
        stack: &stack.name,
        env: &stack.env,
    });
    print!("{}", render(&doc));
    Ok(ExitCode::SUCCESS)
}
