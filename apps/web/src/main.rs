use std::process::ExitCode;

use kit::cli::Cli;
use web::config::Config;
use web::server;

fn main() -> ExitCode {
    let cli = Cli {
        name: "web",
        version: env!("CARGO_PKG_VERSION"),
        port: 8000,
        openapi: None,
    };
    cli.main(Config::from_env, server::run)
}
