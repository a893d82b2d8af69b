use std::process::ExitCode;

use api::config::Config;
use api::{healthcheck, server};

const USAGE: &str =
    "usage: api [serve]      run the server (settings from the environment, see README)
       api healthcheck  probe the local server's /healthz (exit 0 when healthy)
       api openapi      print the OpenAPI document
       api --version";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        None | Some("serve") => serve(),
        Some("healthcheck") => health(),
        Some("openapi") => {
            println!(
                "{}",
                api::app::openapi().to_pretty_json().unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("api {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("api: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    kit::server::main("api", Config::from_env, server::run)
}

fn health() -> ExitCode {
    healthcheck::main("api", 8080)
}
