//! An open-model load generator: requests start at a constant arrival rate whatever the
//! service does (a slow answer never delays the next request, as it would with a fixed pool
//! of clients waiting in turn), and each latency counts from the moment the request was due,
//! so a generator running late cannot hide a slow service.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::stats::{Latency, Outcome, Tally};
use super::{Target, authorized};

/// Requests waiting for an answer beyond which the next are counted as not sent: at 10 s
/// per request that is 400 requests a second, past any service this targets.
pub const MAX_WAITING: usize = 4000;

/// What one second of the run saw.
#[derive(Debug, Clone, Serialize)]
pub struct Second {
    pub at: u64,
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub rate: u32,
    pub elapsed: Duration,
    pub tally: Tally,
    pub seconds: Vec<Second>,
    /// How late the generator sent its requests (p99, ms): above a few ms it, not the
    /// service, was the limit.
    pub late_p99_ms: f64,
}

impl Run {
    pub fn latency(&self) -> Latency {
        self.tally.latency()
    }
    /// Requests answered per second over the run.
    pub fn achieved(&self) -> f64 {
        self.tally.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `GET path` on `target` at `rate` a second until `until` completes; `each_second` is told
/// what the last second saw.
pub async fn run(
    client: &reqwest::Client,
    target: &Target,
    path: &str,
    rate: u32,
    until: impl std::future::Future<Output = ()>,
    mut each_second: impl FnMut(&Second, &Tally),
) -> Run {
    let url = target.at(path);
    let token = target.token.clone();
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<(Outcome, Duration)>();
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut late: Vec<u64> = Vec::new();
    let mut total = Tally::default();
    let mut second = Tally::default();
    let mut seconds = Vec::new();
    let mut tick = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut due = start;
    tokio::pin!(until);
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            Some((outcome, latency)) = rx.recv() => {
                second.add(&outcome, latency);
            }
            _ = tick.tick() => {
                let s = Second { at: seconds.len() as u64 + 1, sent: second.sent, ok: second.ok, failed: second.failures() };
                total.merge(&second);
                second = Tally::default();
                each_second(&s, &total);
                seconds.push(s);
            }
            () = &mut until, if !stopping => stopping = true,
            () = tokio::time::sleep_until(due), if !stopping => {
                late.push(due.elapsed().as_micros() as u64);
                if waiting.load(Ordering::Relaxed) >= MAX_WAITING {
                    second.add(&Outcome::NotSent, Duration::ZERO);
                } else {
                    waiting.fetch_add(1, Ordering::Relaxed);
                    let req = authorized(client.get(url.clone()), token.as_deref());
                    let (tx, waiting, was_due) = (tx.clone(), waiting.clone(), due);
                    tokio::spawn(async move {
                        let outcome = outcome(req.send().await).await;
                        let _ = tx.send((outcome, was_due.elapsed()));
                        waiting.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                due += period;
            }
        }
        // Stopped sending: wait for the answers still due (each ends by its timeout).
        if stopping && waiting.load(Ordering::Relaxed) == 0 && rx.is_empty() {
            break;
        }
    }
    total.merge(&second);
    late.sort_unstable();
    let late_p99_ms = late
        .get((late.len() * 99 / 100).min(late.len().saturating_sub(1)))
        .map_or(0.0, |us| *us as f64 / 1000.0);
    Run {
        rate,
        elapsed: start.elapsed(),
        tally: total,
        seconds,
        late_p99_ms,
    }
}

/// How a request ended; the body is read whole so the connection can be used again.
pub async fn outcome(sent: Result<reqwest::Response, reqwest::Error>) -> Outcome {
    match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(_) if (200..300).contains(&status) => Outcome::Ok,
                Ok(_) => Outcome::Status(status),
                Err(e) if e.is_timeout() => Outcome::Timeout,
                Err(_) => Outcome::Connection,
            }
        }
        Err(e) if e.is_timeout() => Outcome::Timeout,
        Err(_) => Outcome::Connection,
    }
}
