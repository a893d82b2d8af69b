//! An app's command line: `serve` (the default), `healthcheck` (the container health check
//! stackctl's images run), `openapi` (for apps that have a document), `--version`, `--help`.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

pub struct Cli {
    pub name: &'static str,
    pub version: &'static str,
    /// The port `healthcheck` probes when `PORT` is unset (the server's default).
    pub port: u16,
    /// The OpenAPI document, pretty JSON.
    pub openapi: Option<fn() -> String>,
}

impl Cli {
    /// Runs the command in the process's first argument; `config` reads the settings and
    /// `run` serves with them.
    pub fn main<C, E, R, F>(
        &self,
        config: impl FnOnce() -> Result<C, E>,
        run: impl FnOnce(C) -> F,
    ) -> ExitCode
    where
        E: std::fmt::Display,
        R: std::fmt::Display,
        F: Future<Output = Result<(), R>>,
    {
        let name = self.name;
        let usage = self.usage();
        match std::env::args().nth(1).as_deref() {
            None | Some("serve") => serve(name, config, run),
            Some("healthcheck") => crate::healthcheck::main(name, self.port),
            Some("openapi") if self.openapi.is_some() => {
                println!("{}", self.openapi.map(|doc| doc()).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Some("--version" | "-V") => {
                println!("{name} {}", self.version);
                ExitCode::SUCCESS
            }
            Some("--help" | "-h" | "help") => {
                println!("{usage}");
                ExitCode::SUCCESS
            }
            Some(other) => {
                eprintln!("{name}: unknown command {other:?}\n{usage}");
                ExitCode::from(2)
            }
        }
    }

    fn usage(&self) -> String {
        let mut lines = vec![
            format!(
                "usage: {} [serve]      run the server (settings from the environment, see README)",
                self.name
            ),
            format!(
                "       {} healthcheck  probe the local server's /healthz (exit 0 when healthy)",
                self.name
            ),
        ];
        if self.openapi.is_some() {
            lines.push(format!(
                "       {} openapi      print the OpenAPI document",
                self.name
            ));
        }
        lines.push(format!("       {} --version", self.name));
        lines.join("\n")
    }
}

/// How long the runtime's leftover tasks get once the server has stopped.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

/// The `serve` command: JSON logs on, settings read, `run` to completion on a new runtime;
/// exit 2 for bad settings, 1 when the server fails. Errors go to the log and, as one line
/// naming `app`, to stderr.
fn serve<C, E, R, F>(
    app: &str,
    config: impl FnOnce() -> Result<C, E>,
    run: impl FnOnce(C) -> F,
) -> std::process::ExitCode
where
    E: std::fmt::Display,
    R: std::fmt::Display,
    F: Future<Output = Result<(), R>>,
{
    let logs = crate::logging::init();
    let code = match config() {
        Err(e) => {
            tracing::error!(error = %e, "refusing to start");
            eprintln!("{app}: refusing to start: {e}");
            ExitCode::from(2)
        }
        Ok(config) => match tokio::runtime::Runtime::new() {
            Err(e) => {
                eprintln!("{app}: cannot start the runtime: {e}");
                ExitCode::FAILURE
            }
            Ok(rt) => {
                let result = rt.block_on(run(config));
                // Connections still open after the drain timeout are dropped here; dropping
                // the runtime instead would wait for blocking tasks without a bound.
                rt.shutdown_timeout(RUNTIME_STOP);
                match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "exiting");
                        eprintln!("{app}: {e}");
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
