//! `stackctl dev`: every service of the stack on this machine, shaped as in the cloud: the
//! same environment and secrets (local ones), the same health checks, a front on one port
//! that routes as the load balancer does, services calling each other through the same
//! `<NAME>_URL` variables, and the database when the stack has one. Each service is a debug
//! build of its package, run as a process and restarted when it exits.

mod address;
mod build;
mod container;
mod database;
mod error;
mod front;
mod layout;
mod output;
pub mod plan;
pub mod routes;
mod supervise;
mod tokens;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::DevError;
pub use layout::Layout;

use crate::config::Stack;
use output::Output;
use plan::LocalFacts;

pub struct Options {
    /// The front's port on 127.0.0.1.
    pub port: u16,
    /// Rebuild and restart a service when its sources change.
    pub watch: bool,
    /// How long a service may take to answer its health check before it is restarted.
    pub health_timeout: Duration,
    /// Run the images in podman or Docker instead of the binaries as processes.
    pub containers: bool,
}

/// Runs the stack until Ctrl-C (or SIGTERM), then stops everything it started.
pub async fn run(stack: &Stack, stack_dir: &Path, opts: &Options) -> Result<(), DevError> {
    let began = Instant::now();
    // Installed first: from here Ctrl-C stops what was started instead of killing stackctl.
    let mut signals = Signals::new()?;
    let names: Vec<String> = stack.services.keys().cloned().collect();
    let out = Output::new(&names);
    let layout = Layout::new(stack_dir);
    // Checked before anything starts: a prebuilt image, a port in use, no cargo.
    let ports = plan::ports(stack, opts.port);
    plan::services(stack, &ports, &LocalFacts::default(), opts.containers)?;
    let runtime = match opts.containers {
        true => Some(container::Runtime::find().await?),
        false => None,
    };
    let builds = stack
        .services
        .values()
        .any(|s| matches!(s.source, crate::config::Source::Build(_)));
    if builds && !build::cargo_available().await {
        return Err(DevError::NoCargo);
    }
    let front = front::bind(opts.port).await?;
    // Served at once: while the services build and start, a request gets 503 at once (as a
    // load balancer answers with no healthy target), not a connection left waiting.
    let healthy = Arc::new(front::Healthy::default());
    let routes = routes::Routes::new(stack);
    let serving = Serving(tokio::spawn(front::serve(
        front,
        routes.clone(),
        healthy.clone(),
    )));
    for (name, port) in &ports {
        port_free(*port, name)?;
        let declared = stack.services[name].port;
        if *port != declared {
            out.say(&format!(
                "{name}: port {declared} is taken here by another service or the front; it listens on {port}"
            ));
        }
    }
    layout.create()?;
    let tokens = tokens::ensure(&layout, stack)?;
    let mut db = match &stack.database {
        Some(d) => Some(database::start(&layout, d, &out)?),
        None => None,
    };
    if opts.containers
        && let Some(plan::LocalDatabase::Sqlite { .. }) = db.as_ref().map(|d| &d.facts)
    {
        return Err(DevError::SqliteInContainers);
    }
    let facts = LocalFacts {
        tokens,
        database: db.as_ref().map(|d| d.facts.clone()),
    };
    let services = plan::services(stack, &ports, &facts, opts.containers)?;
    if let Some(r) = &runtime {
        out.say(&format!("running the services' images in {}", r.0));
    }
    let builder = Arc::new(build::Builder {
        stack: stack.clone(),
        layout: layout.clone(),
        out: out.clone(),
        runtime,
    });
    let build_all = async {
        let mut artifacts = Vec::new();
        for s in &services {
            artifacts.push(builder.artifact(&s.name).await?);
        }
        Ok::<_, DevError>(artifacts)
    };
    let artifacts = tokio::select! {
        built = build_all => built?,
        _ = signals.next() => {
            out.say("stopped before the services started");
            return Ok(());
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Everything that can fail comes before the first service starts.
    let mut prepared = Vec::new();
    for (s, artifact) in services.iter().zip(artifacts) {
        let workdir = layout.service(&s.name);
        layout::private_dir(&workdir)?;
        let sources = match s.package.as_ref().filter(|_| opts.watch) {
            Some(package) => Some(
                crate::image::compile::local_sources(package)
                    .await
                    .map_err(|e| build::build_failed(&s.name, e))?,
            ),
            None => None,
        };
        prepared.push((s, artifact, workdir, sources));
    }
    let mut running = Vec::new();
    let mut watched = Vec::new();
    let mut senders = Vec::new();
    for (s, artifact, workdir, sources) in prepared {
        let (tx, rx) = tokio::sync::watch::channel(artifact);
        let sup = supervise::Supervised {
            service: s.clone(),
            workdir,
            artifact: rx,
            health_timeout: opts.health_timeout,
        };
        running.push(tokio::spawn(supervise::supervise(
            sup,
            healthy.clone(),
            out.clone(),
            stop_rx.clone(),
        )));
        match sources {
            Some(sources) => watched.push(watch::Watched {
                name: s.name.clone(),
                sources,
                artifact: tx,
            }),
            // Kept so the service never sees its artifact's sender gone.
            None => senders.push(tx),
        }
    }
    if opts.watch {
        tokio::spawn(watch::run(watched, builder.clone(), stop_rx.clone()));
        out.say("watching the services' sources: a change rebuilds and restarts that service");
    }

    let url = format!("http://127.0.0.1:{}", opts.port);
    let ready = {
        let healthy = healthy.clone();
        let total = services.len();
        async move {
            while healthy.count() < total {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let early = tokio::select! {
        _ = ready => {
            let what = if routes.is_empty() {
                "no service is public, the front answers 404".to_string()
            } else {
                url.clone()
            };
            out.say(&format!(
                "ready in {:.1} s: {what} (Ctrl-C stops everything)",
                began.elapsed().as_secs_f64()
            ));
            false
        }
        _ = signals.next() => true,
    };
    if !early {
        signals.next().await;
    }
    out.say("stopping");
    let _ = stop_tx.send(true);
    for r in running {
        let _ = r.await;
    }
    drop(serving);
    if let Some(db) = db.as_mut() {
        db.stop();
    }
    drop(senders);
    out.say("stopped");
    Ok(())
}

/// Ctrl-C and SIGTERM, caught from creation on.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, DevError> {
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |kind| signal(kind).map_err(DevError::io("catch signals of", "stackctl"));
        Ok(Signals {
            interrupt: catch(SignalKind::interrupt())?,
            terminate: catch(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// A service's port must be free on every address (services listen on all of them).
fn port_free(port: u16, service: &str) -> Result<(), DevError> {
    std::net::TcpListener::bind(("0.0.0.0", port))
        .map(drop)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => DevError::PortInUse {
                port,
                what: format!("service {service}"),
            },
            std::io::ErrorKind::PermissionDenied => DevError::PrivilegedPort {
                port,
                what: format!("service {service}"),
            },
            _ => DevError::io("listen on", format!("0.0.0.0:{port}"))(e),
        })
}

/// The local token of a service (`stackctl token --dev`).
pub fn token(stack_dir: &Path, service: &str) -> Result<String, DevError> {
    tokens::read(&Layout::new(stack_dir), service)
}

/// The front's task, stopped with `run` however it returns (an error before the services
/// start included), so its port is free again.
struct Serving(tokio::task::JoinHandle<()>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.abort();
    }
}
