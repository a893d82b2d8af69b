//! One service's process: started, probed, restarted. As the load balancer and ECS treat a
//! task: it takes requests once `GET <health>` answers 200 (the target group's matcher,
//! `aws::target_group::HEALTHY_CODES`), stops taking them after two failed probes (the
//! unhealthy threshold `up` sets), and is replaced when it exits or never becomes healthy;
//! here with a backoff, and its last lines shown.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::address::task_address;
use super::build::Artifact;
use super::front::Healthy;
use super::output::Output;
use super::plan::DevService;

/// The environment a service gets from this machine besides its own: what a program needs
/// to run at all. Nothing else leaks in from the shell (a stray `DATABASE_URL` would).
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "RUST_BACKTRACE",
];
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Asked to stop (SIGTERM), a service drains; after this it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
const TAIL: usize = 15;

pub struct Supervised {
    pub service: DevService,
    /// Where it may write (its working directory).
    pub workdir: PathBuf,
    /// What to run; a new value restarts the service with it.
    pub artifact: watch::Receiver<Artifact>,
    pub health_timeout: Duration,
}

enum Ended {
    Exited(ExitStatus),
    /// Whether it answered on 127.0.0.1 meanwhile.
    NeverHealthy {
        loopback_only: bool,
    },
    /// Healthy, then failed the unhealthy threshold.
    Unhealthy,
    NewBuild,
    Stop,
}

/// Runs the service until `stop` turns true (or its sender goes).
pub async fn supervise(
    mut s: Supervised,
    healthy: Arc<Healthy>,
    out: Output,
    mut stop: watch::Receiver<bool>,
) {
    let name = s.service.name.clone();
    let port = s.service.port;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *stop.borrow() {
            return;
        }
        let artifact = s.artifact.borrow_and_update().clone();
        if let Artifact::Container(c) = &artifact {
            // One a killed run left behind.
            c.runtime.remove(&c.name).await;
        }
        let started = Instant::now();
        let mut child = match spawn(&s, &artifact) {
            Ok(c) => c,
            Err(e) => {
                out.say(&format!("{name}: could not start: {e}"));
                if wait_or_stop(backoff, &mut stop, &mut s.artifact).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let pid = child.id().unwrap_or_default();
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let readers = [
            child
                .stdout
                .take()
                .map(|o| read_lines(o, &name, &out, &tail)),
            child
                .stderr
                .take()
                .map(|e| read_lines(e, &name, &out, &tail)),
        ];
        let (mut up, mut was_up, mut failures) = (false, false, 0);
        let ended = loop {
            let pause = if up { 1000 } else { 100 };
            // Looked up each time: a laptop changes networks.
            let at = SocketAddr::new(task_address(), port);
            let probed = async {
                tokio::time::sleep(Duration::from_millis(pause)).await;
                probe(at, &s.service.health).await
            };
            let ok = tokio::select! {
                status = child.wait() => break status.map_or(Ended::Stop, Ended::Exited),
                _ = stopped(&mut stop) => break Ended::Stop,
                _ = changed(&mut s.artifact) => break Ended::NewBuild,
                ok = probed => ok,
            };
            if ok {
                failures = 0;
                if !up {
                    (up, was_up) = (true, true);
                    healthy.set(&name, Some(at));
                    out.say(&format!(
                        "{name}: healthy after {:.1} s (pid {pid}, port {port})",
                        started.elapsed().as_secs_f64(),
                    ));
                }
            } else if up {
                failures += 1;
                // The target group's unhealthy threshold; ECS then replaces the task.
                if failures == 2 {
                    break Ended::Unhealthy;
                }
            } else if !was_up && started.elapsed() > s.health_timeout {
                let loopback = SocketAddr::from(([127, 0, 0, 1], port));
                let loopback_only =
                    !at.ip().is_loopback() && probe(loopback, &s.service.health).await;
                break Ended::NeverHealthy { loopback_only };
            }
        };
        healthy.set(&name, None);
        terminate(&mut child, pid).await;
        if let Artifact::Container(c) = &artifact {
            // Killed, the runtime's client may leave its container behind.
            c.runtime.remove(&c.name).await;
        }
        for r in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_millis(500), r).await;
        }
        let show_tail = |why: String| {
            let tail = tail.lock().expect("not poisoned");
            if tail.is_empty() {
                out.say(&format!("{why}; it printed nothing"));
            }
            for (i, line) in tail.iter().enumerate() {
                if i == 0 {
                    out.say(&format!("{why}; its last lines:"));
                }
                out.say(&format!("  {name} | {line}"));
            }
        };
        let health = &s.service.health;
        match ended {
            Ended::Stop => return,
            Ended::NewBuild => {
                out.say(&format!("{name}: restarting with the new build"));
                backoff = FIRST_BACKOFF;
                continue;
            }
            Ended::Exited(status) => show_tail(format!("{name}: exited ({status})")),
            Ended::Unhealthy => show_tail(format!(
                "{name}: GET {health} failed twice, so it is replaced (as ECS replaces a task \
                 the load balancer finds unhealthy)"
            )),
            Ended::NeverHealthy { loopback_only } => {
                let why = if loopback_only {
                    "it answers on 127.0.0.1 only: in the cloud the load balancer reaches a task at \
                     its own address, so listen on 0.0.0.0"
                } else {
                    "check `health:` and `port:` in stack.yaml"
                };
                show_tail(format!(
                    "{name}: GET http://{}:{port}{health} did not answer 200 within {} s; {why}",
                    task_address(),
                    s.health_timeout.as_secs()
                ))
            }
        }
        if was_up {
            backoff = FIRST_BACKOFF;
        }
        out.say(&format!(
            "{name}: restarting in {} s",
            backoff.as_secs_f64()
        ));
        if wait_or_stop(backoff, &mut stop, &mut s.artifact).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Waits `pause`; true when asked to stop meanwhile. A new build ends the wait.
async fn wait_or_stop(
    pause: Duration,
    stop: &mut watch::Receiver<bool>,
    artifact: &mut watch::Receiver<Artifact>,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        _ = stopped(stop) => true,
        _ = changed(artifact) => false,
    }
}

/// Resolves when asked to stop, or when the sender is gone (its owner has stopped).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    while rx.changed().await.is_ok() {
        if *rx.borrow() {
            return;
        }
    }
}

/// Resolves on the next change; never when the sender is gone.
async fn changed<T>(rx: &mut watch::Receiver<T>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn spawn(s: &Supervised, artifact: &Artifact) -> std::io::Result<Child> {
    let mut cmd = match artifact {
        Artifact::Binary(path) => {
            let mut cmd = Command::new(path);
            cmd.env_clear();
            for var in PASSED_THROUGH {
                if let Some(v) = std::env::var_os(var) {
                    cmd.env(var, v);
                }
            }
            cmd
        }
        Artifact::Container(c) => {
            // The runtime's client keeps the user's environment (rootless podman needs it);
            // the container gets only the variables named with --env.
            let mut cmd = Command::new(&c.runtime.0);
            cmd.args(c.run_args(s.service.env.keys()));
            cmd
        }
    };
    cmd.envs(&s.service.env)
        .current_dir(&s.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the terminal's Ctrl-C reaches stackctl alone, which stops
        // the services in order.
        .process_group(0)
        .kill_on_drop(true);
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls between fork and exec. PDEATHSIG fires when the
    // forking thread exits: spawn runs on a tokio worker, which lives as long as the runtime
    // (never call it from spawn_blocking, whose threads come and go).
    unsafe {
        cmd.pre_exec(move || {
            // If stackctl dies without stopping it (SIGKILL), the service gets SIGTERM.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// SIGTERM to the service's process group, then SIGKILL after [`STOP_GRACE`]; then SIGKILL to
/// the group anyway: what the service started must not outlive it (and keep its port).
pub async fn terminate(child: &mut Child, pid: u32) {
    let group = -(pid as i32);
    if child.id().is_some() {
        // SAFETY: kill(2) on the process group we created; the leader is not reaped yet.
        unsafe { libc::kill(group, libc::SIGTERM) };
        if tokio::time::timeout(STOP_GRACE, child.wait())
            .await
            .is_err()
        {
            unsafe { libc::kill(group, libc::SIGKILL) };
            let _ = child.wait().await;
        }
    }
    // SAFETY: as above; the group id stays reserved while any member lives (ESRCH otherwise).
    unsafe { libc::kill(group, libc::SIGKILL) };
}

fn read_lines(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    name: &str,
    out: &Output,
    tail: &Arc<Mutex<VecDeque<String>>>,
) -> tokio::task::JoinHandle<()> {
    let (name, out, tail) = (name.to_string(), out.clone(), tail.clone());
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).split(b'\n');
        while let Ok(Some(bytes)) = lines.next_segment().await {
            let line = String::from_utf8_lossy(&bytes).trim_end().to_string();
            out.line(&name, &line);
            let mut t = tail.lock().expect("not poisoned");
            if t.len() == TAIL {
                t.pop_front();
            }
            t.push_back(line);
        }
    })
}

/// `GET http://<at><path>` answers 200 within two seconds.
pub async fn probe(at: std::net::SocketAddr, path: &str) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(at).await.ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {at}\r\nUser-Agent: stackctl-dev-health\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200")
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}
