//! `stackctl ci` and the shell completions.

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct CiArgs {
    #[command(subcommand)]
    pub ci: CiKind,
}

#[derive(Subcommand, Debug)]
pub enum CiKind {
    /// Write .github/workflows/stackctl-plan.yml and stackctl-deploy.yml (one pair per
    /// `--env`) for stack.yaml's `ci.github`. A file someone changed is left alone, unless
    /// --force.
    Github(CiGithubArgs),
}

#[derive(Args, Debug)]
pub struct CiGithubArgs {
    /// Replace workflow files someone changed since stackctl wrote them.
    #[arg(long)]
    pub force: bool,
    /// The AWS account the roles are in (default: the one the credentials belong to).
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
