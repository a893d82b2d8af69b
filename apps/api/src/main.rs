use std::process::ExitCode;
use std::time::Duration;

use api::config::Config;
use api::{healthcheck, logging, server};

/// How long the runtime's leftover tasks get once the server has stopped.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

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
    let logs = logging::init();
    let code = match Config::from_env() {
        Err(e) => {
            tracing::error!(error = %e, "refusing to start");
            eprintln!("api: refusing to start: {e}");
            ExitCode::from(2)
        }
        Ok(config) => match tokio::runtime::Runtime::new() {
            Err(e) => {
                eprintln!("api: cannot start the runtime: {e}");
                ExitCode::FAILURE
            }
            Ok(rt) => {
                let result = rt.block_on(server::run(config));
                // Connections still open after the drain timeout are dropped here; dropping
                // the runtime instead would wait for blocking tasks without a bound.
                rt.shutdown_timeout(RUNTIME_STOP);
                match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "exiting");
                        eprintln!("api: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
        },
    };
    // The writer thread drains what is queued, flushes and stops (bounded), then we exit.
    drop(logs);
    code
}

fn health() -> ExitCode {
    let port = match std::env::var("PORT").ok().filter(|p| !p.is_empty()) {
        None => 8080,
        Some(p) => match p.parse() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("api healthcheck: PORT={p:?} is not a port");
                return ExitCode::from(2);
            }
        },
    };
    match healthcheck::probe(port, Duration::from_secs(3)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("api healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}
