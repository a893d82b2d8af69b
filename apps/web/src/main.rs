use std::process::ExitCode;

use web::config::Config;
use web::{healthcheck, server};

const USAGE: &str =
    "usage: web [serve]      run the server (settings from the environment, see README)
       web healthcheck  probe the local server's /healthz (exit 0 when healthy)
       web --version";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => kit::server::main("web", Config::from_env, server::run),
        Some("healthcheck") => healthcheck::main("web", 8000),
        Some("--version" | "-V") => {
            println!("web {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("web: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
