use std::process::ExitCode;

use kit::cli::Cli;
use users::config::Config;
use users::server;

fn main() -> ExitCode {
    let cli = Cli {
        name: "users",
        version: env!("CARGO_PKG_VERSION"),
        port: 8080,
        openapi: Some(|| users::app::openapi().to_pretty_json().unwrap_or_default()),
    };
    cli.main(Config::from_env, server::run)
}
