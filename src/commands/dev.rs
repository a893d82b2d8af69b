//! `stackctl dev`: the stack on this machine (see `crate::dev`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, load};
use crate::cli::{Cli, DevArgs};
use crate::dev;

pub async fn run(cli: &Cli, args: &DevArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let opts = dev::Options {
        port: args.port,
        watch: args.watch,
        health_timeout: args.health_timeout.0,
    };
    dev::run(&stack, &stack_dir(cli), &opts).await?;
    Ok(ExitCode::SUCCESS)
}

/// The directory of the stack file: `.stackctl/` is made there.
pub fn stack_dir(cli: &Cli) -> PathBuf {
    cli.file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}
