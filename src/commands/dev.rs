//! `stackctl dev`: the stack on this machine (see `crate::dev`).

use std::process::ExitCode;

use super::{Failure, load, stack_dir};
use crate::cli::{Cli, DevArgs};
use crate::dev;

pub async fn run(cli: &Cli, args: &DevArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let opts = dev::Options {
        port: args.port,
        watch: args.watch,
        health_timeout: args.health_timeout.0,
        containers: args.containers,
    };
    dev::run(&stack, &stack_dir(cli), &opts).await?;
    Ok(ExitCode::SUCCESS)
}
