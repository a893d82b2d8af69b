use std::process::ExitCode;

use clap::Parser;
use stackctl::cli::{Cli, Command};
use stackctl::commands::{self, finish};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Plan(args) => commands::plan::run(&cli, args).await,
        Command::Up(args) => commands::up::run(&cli, args).await,
        Command::Down(args) => commands::down::run(&cli, args).await,
        Command::Dev(args) => commands::dev::run(&cli, args).await,
        Command::Build(args) => commands::build::run(&cli, args).await,
        Command::Status(args) => commands::status::run(&cli, args).await,
        Command::Logs(args) => commands::logs::run(&cli, args).await,
        Command::RotateToken(args) => commands::token::rotate(&cli, args).await,
        Command::Rollback(args) => commands::rollback::run(&cli, args).await,
        Command::Token(args) => commands::token::show(&cli, args).await,
        Command::Policy(args) => commands::policy::run(&cli, args),
        Command::Explain(args) => commands::explain::run(&cli, args),
        Command::Cost(args) => commands::cost::run(&cli, args).await,
        Command::Check(args) => commands::check::run(&cli, args).await,
        Command::Ci(args) => commands::ci::run(&cli, args).await,
        Command::Completions(args) => commands::manual::completions(args),
        Command::Man => commands::manual::man(),
        Command::Validate => commands::load(&cli).map(|s| {
            println!(
                "{}: valid (stack {}, env {}, {} services)",
                cli.file.display(),
                s.name,
                s.env,
                s.services.len()
            );
            ExitCode::SUCCESS
        }),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&stackctl::config::schema())
                    .expect("schema serializes")
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    let failed_plan =
        matches!(&cli.command, Command::Plan(a) if a.detailed_exitcode) && result.is_err();
    let code = finish(result, cli.verbose);
    // With --detailed-exitcode, 2 means "changes"; every error is 1.
    if failed_plan {
        ExitCode::from(commands::EXIT_FAILURE)
    } else {
        code
    }
}
