//! `stackctl policy`: the IAM policy to run stackctl on this stack, from the one table in
//! `aws::permissions`, scoped to its names; in parts when one managed policy cannot hold it.
//! `--role` prints a CI role's instead (what `up` attaches to it). Reads stack.yaml only.

use std::process::ExitCode;

use super::{Failure, load, partition};
use crate::aws::permissions::{
    DEPLOY, MANAGED_POLICY_MAX, PLAN, Target, documents, policy, policy_for, render, size,
};
use crate::cli::{CiRole, Cli, PolicyArgs};

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
    let target = Target {
        partition: partition(region),
        region,
        account,
        stack: &stack.name,
        env: &stack.env,
        domain: stack.domain.as_ref().map(|d| d.name.as_str()),
    };
    let whole = match args.role {
        None => policy(&target),
        Some(CiRole::Deploy) => policy_for(&target, DEPLOY),
        Some(CiRole::Plan) => policy_for(&target, PLAN),
    };
    let parts = documents(&whole);
    let n = parts.len();
    let doc = match args.part {
        None if n == 1 => &parts[0],
        Some(k) if (1..=n).contains(&k) => &parts[k - 1],
        None => {
            return Err(Failure::Other {
                message: format!(
                    "the policy for {}/{} is {} characters, over the {MANAGED_POLICY_MAX} IAM allows one managed policy: it comes in {n} parts",
                    stack.name,
                    stack.env,
                    size(&whole)
                ),
                hint: Some(format!(
                    "print each with `stackctl policy{role} --part 1` to `--part {n}`, create a managed policy of each and attach them all",
                    role = match args.role {
                        None => "",
                        Some(CiRole::Deploy) => " --role deploy",
                        Some(CiRole::Plan) => " --role plan",
                    }
                )),
            });
        }
        Some(k) => {
            return Err(Failure::Usage(format!(
                "--part {k}: the policy for {}/{} has {n} part{}",
                stack.name,
                stack.env,
                if n == 1 { "" } else { "s" }
            )));
        }
    };
    print!("{}", render(doc));
    Ok(ExitCode::SUCCESS)
}
