use std::process::ExitCode;

use api::config::Config;
use api::server;
use kit::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli {
        name: "api",
        version: env!("CARGO_PKG_VERSION"),
        port: 8080,
        openapi: Some(|| api::app::openapi().to_pretty_json().unwrap_or_default()),
    };
    cli.main(Config::from_env, server::run)
}
