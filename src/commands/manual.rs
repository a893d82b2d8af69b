//! `stackctl completions SHELL` and `stackctl man`: generated from the command line's own
//! definition, so they never drift from it. Each release packs both.

use std::process::ExitCode;

use clap::CommandFactory;

use super::Failure;
use crate::cli::{Cli, CompletionsArgs};

pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, Failure> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "stackctl", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> Result<ExitCode, Failure> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(|e| Failure::Other {
            message: format!("write the manual page: {e}"),
            hint: None,
        })?;
    Ok(ExitCode::SUCCESS)
}
