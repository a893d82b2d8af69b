//! Stopping cannot pass by luck: the API is started and stopped many times, by SIGTERM and
//! SIGINT, idle, with a request in flight and while logging at full rate, first on an idle
//! machine and then with every core kept busy. Every stop must exit 0 with its last log line
//! `stopped`, and every refusal to start (no token) must exit 2. A hang shows as a run still
//! alive long after the signal, with what its threads were waiting in.
//!
//! Each exit must also come within `STOP_BOUND` of the signal (or of the last in-flight answer):
//! what the process waits for after that is bounded by design (the runtime's leftover tasks 1 s,
//! the log writer's drain about 1.1 s), so a later exit means something waited without a bound,
//! as the old log sink did (a lock handed over by luck: seconds on a busy machine, or never).
//!
//! `API_SHUTDOWN_LOOP_RUNS` (default 3) is the number of runs per case: 12 cases, so 36 stops
//! by default; set it higher for a longer campaign. It prints the times to exit (median, max)
//! per case, which the closing notes quote.

mod common;

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::process::{Server, finish_slow_request, get_root, output_within, start_slow_request};

/// The most a stop may take: 1 s for the runtime, ~1.1 s for the log drain, and room for a
/// loaded machine (a stop takes milliseconds here).
const STOP_BOUND: Duration = Duration::from_secs(3);
/// How long to wait before calling a run hung and saying where its threads wait.
const EXIT_LIMIT: Duration = Duration::from_secs(20);
/// Requests answered before the signal in the full-rate case.
const WARM_REQUESTS: u64 = 2_000;

#[derive(Clone, Copy, Debug)]
enum Traffic {
    Idle,
    InFlight,
    FullRate,
}

/// Keeps every core busy until dropped.
struct Burner {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Burner {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Burner { stop, threads }
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Clients sending keep-alive requests as fast as the server answers, until it goes away.
fn hammer(server: &Server, clients: usize) -> (Arc<AtomicU64>, Vec<std::thread::JoinHandle<()>>) {
    let answered = Arc::new(AtomicU64::new(0));
    let threads = (0..clients)
        .map(|_| {
            let (addr, answered) = (server.addr(), answered.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                while let Ok(mut s) = TcpStream::connect(addr) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    while get_root(&mut s, &mut buf) {
                        answered.fetch_add(1, Relaxed);
                    }
                }
            })
        })
        .collect();
    (answered, threads)
}

/// One start and stop; the time from the signal (or the last in-flight answer) to the exit.
fn one(signal: &str, traffic: Traffic) -> Result<Duration, String> {
    // The rate limiter off: the full-rate case is about logging every request.
    let server = Server::start(&[
        ("RATE_LIMIT_PER_SECOND", "0"),
        ("SHUTDOWN_TIMEOUT_SECS", "10"),
    ]);
    let mut clients = Vec::new();
    let mut slow = None;
    match traffic {
        Traffic::Idle => {}
        Traffic::InFlight => {
            slow = Some(start_slow_request(server.addr()));
            std::thread::sleep(Duration::from_millis(50));
        }
        Traffic::FullRate => {
            let (answered, threads) = hammer(&server, 4);
            let deadline = Instant::now() + Duration::from_secs(30);
            while answered.load(Relaxed) < WARM_REQUESTS {
                if Instant::now() > deadline {
                    return Err("the server answered too few requests".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            clients = threads;
        }
    }
    let mut from = Instant::now();
    server.signal(signal);
    if let Some(conn) = slow {
        std::thread::sleep(Duration::from_millis(50));
        let (status, body) = finish_slow_request(conn);
        from = Instant::now();
        if status != "HTTP/1.1 200 OK" {
            return Err(format!("the in-flight request got {status:?}: {body}"));
        }
    }
    let exit = server.wait_exit(EXIT_LIMIT)?;
    let took = from.elapsed();
    for c in clients {
        let _ = c.join();
    }
    if !exit.status.success() {
        return Err(format!("exited {:?}", exit.status));
    }
    if took > STOP_BOUND {
        return Err(format!(
            "exited {took:?} after the signal (bound: {STOP_BOUND:?})"
        ));
    }
    let last = exit.stdout.lines().last().unwrap_or_default();
    let last: serde_json::Value =
        serde_json::from_str(last).map_err(|e| format!("last line {last:?}: {e}"))?;
    if last["msg"] != "stopped" {
        return Err(format!("the last line is not `stopped`: {last}"));
    }
    if !exit.stdout.contains(&format!("\"signal\":\"SIG{signal}\"")) {
        return Err("no `shutting down` line naming the signal".into());
    }
    Ok(took)
}

fn refusal() -> Result<Duration, String> {
    let started = Instant::now();
    let out = output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_api"))
            .env_clear()
            .env("API_TOKEN", "")
            .env("PORT", common::process::free_port().to_string()),
        EXIT_LIMIT,
    )?;
    let took = started.elapsed();
    match out.status.code() {
        Some(2) if took <= STOP_BOUND => Ok(took),
        Some(2) => Err(format!(
            "refused, but only after {took:?} (bound: {STOP_BOUND:?})"
        )),
        other => Err(format!("exited {other:?}")),
    }
}

fn summary(label: &str, times: &mut [Duration]) -> String {
    times.sort();
    if times.is_empty() {
        return format!("{label}: none");
    }
    format!(
        "{label}: {} runs, median {:.1} ms, max {:.1} ms",
        times.len(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    )
}

#[test]
fn every_stop_exits_0_with_the_last_line_written() {
    let runs: usize = std::env::var("API_SHUTDOWN_LOOP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for busy in [false, true] {
        let _burn = busy.then(Burner::start);
        let load = if busy { "busy" } else { "idle" };
        let mut times = Vec::new();
        for traffic in [Traffic::Idle, Traffic::InFlight, Traffic::FullRate] {
            let mut case_times = Vec::new();
            for signal in ["TERM", "INT"] {
                for run in 0..runs {
                    match one(signal, traffic) {
                        Ok(t) => case_times.push(t),
                        Err(e) => failures.push(format!("{load} {signal} {traffic:?} #{run}: {e}")),
                    }
                }
            }
            report.push(summary(
                &format!("  {load} machine, {traffic:?}"),
                &mut case_times,
            ));
            times.extend(case_times);
        }
        let mut refusals = Vec::new();
        for run in 0..runs {
            match refusal() {
                Ok(t) => refusals.push(t),
                Err(e) => failures.push(format!("{load} refusal #{run}: {e}")),
            }
        }
        report.push(summary(&format!("{load} machine, every stop"), &mut times));
        report.push(summary(
            &format!("{load} machine, refusals to start (exit 2)"),
            &mut refusals,
        ));
    }
    eprintln!(
        "[shutdown-loop] time to exit, exit 0 required:\n{}",
        report.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failed stops:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
