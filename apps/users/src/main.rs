use std::process::ExitCode;

use users::config::Config;
use users::server;

const USAGE: &str =
    "usage: users [serve]      run the server (settings from the environment, see README)
       users healthcheck  probe the local server's /healthz (exit 0 when healthy)
       users openapi      print the OpenAPI document
       users --version";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve(),
        Some("healthcheck") => kit::healthcheck::main("users", 8080),
        Some("openapi") => {
            println!(
                "{}",
                users::app::openapi().to_pretty_json().unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("users {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("users: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    kit::server::main("users", Config::from_env, server::run)
}
