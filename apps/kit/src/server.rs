//! Graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight requests finish (up
//! to a drain timeout), then return. Works as PID 1, which has no default signal handlers.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

/// Resolves on the first SIGTERM or SIGINT. Handlers are installed now, before anything slow.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = &'static str> + Send> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// Splits `shutdown` for a server with a bounded drain: the first future is what the
/// server's graceful shutdown waits on; the second resolves `drain_timeout` after it (give
/// both to [`bounded`]), e.g.
/// `let (stop, deadline) = drain(signal, timeout);`
/// `bounded(axum::serve(listener, app).with_graceful_shutdown(stop).into_future(), deadline)`.
pub fn drain(
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> (
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
) {
    let (started, draining) = tokio::sync::oneshot::channel();
    let stop = async move {
        shutdown.await;
        let _ = started.send(());
    };
    let deadline = async move {
        match draining.await {
            Ok(()) => tokio::time::sleep(drain_timeout).await,
            Err(_) => std::future::pending().await,
        }
    };
    (stop, deadline)
}

/// Runs `server` until it has drained, or until `deadline` (see [`drain`]).
pub async fn bounded(
    server: impl Future<Output = std::io::Result<()>>,
    deadline: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!("drain timeout reached: closing the remaining connections");
            Ok(())
        }
    }
}

/// How long the runtime's leftover tasks get once the server has stopped.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

/// An app's `serve` command: JSON logs on, settings read, `run` to completion on a new
/// runtime; exit 2 for bad settings, 1 when the server fails. Errors go to the log and, as
/// one line naming `app`, to stderr.
pub fn main<C, E, R, F>(
    app: &str,
    config: impl FnOnce() -> Result<C, E>,
    run: impl FnOnce(C) -> F,
) -> std::process::ExitCode
where
    E: std::fmt::Display,
    R: std::fmt::Display,
    F: Future<Output = Result<(), R>>,
{
    use std::process::ExitCode;
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
