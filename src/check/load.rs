//! An open-model load generator: requests start at a constant arrival rate whatever the
//! service does (a slow answer never delays the next request, as it would with a fixed pool
//! of clients waiting in turn), and each latency counts from the moment the request was due,
//! so a generator running late cannot hide a slow service.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::stats::{Histogram, Latency, Outcome, Tally};
use super::{Target, authorized};

/// Requests waiting for an answer beyond which the next are counted as not sent (at 10 s
/// per request, 400 requests a second), and below the open-file limit (each is a socket).
pub const MAX_WAITING: usize = 4000;

/// What the requests due in one second of the run did.
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
    /// How long requests were sent for.
    pub elapsed: Duration,
    pub tally: Tally,
    /// By the second each request was due in.
    pub seconds: Vec<Second>,
    /// How late the generator sent its requests (p99, ms): above a few ms it, not the
    /// service, was the limit.
    pub late_p99_ms: f64,
}

impl Run {
    pub fn latency(&self) -> Latency {
        self.tally.latency()
    }
    /// Requests sent per second over the time they were sent for.
    pub fn achieved(&self) -> f64 {
        self.tally.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// As many sockets as the process may open, less a margin for everything else.
fn waiting_limit() -> usize {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write `r`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 900;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r = raised;
            }
        }
    }
    (r.rlim_cur.saturating_sub(100) as usize).clamp(100, MAX_WAITING)
}

/// `GET path` on `target` at `rate` a second until `until` completes; `each_second` is told
/// what the requests due in the second just ended did so far, and the totals.
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
    let limit = waiting_limit();
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Outcome, Duration)>();
    // Requests sent and not answered yet: counted here, not by the tasks, so the end of the
    // run cannot race the last answers.
    let mut waiting = 0usize;
    let mut late = Histogram::default();
    let mut total = Tally::default();
    let mut buckets: Vec<(u64, Tally)> = Vec::new();
    let mut tick = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let (mut due, mut ticks) = (start, 0usize);
    let mut sent_until = None;
    tokio::pin!(until);
    loop {
        tokio::select! {
            biased;
            Some((second, outcome, latency)) = rx.recv() => {
                waiting -= 1;
                buckets[second].1.add(&outcome, latency);
                total.add(&outcome, latency);
            }
            _ = tick.tick(), if sent_until.is_none() => {
                ticks += 1;
                if let Some((sent, t)) = buckets.get(ticks - 1) {
                    let s = Second { at: ticks as u64, sent: *sent, ok: t.ok, failed: t.failures() };
                    each_second(&s, &total);
                }
            }
            () = &mut until, if sent_until.is_none() => sent_until = Some(start.elapsed()),
            () = tokio::time::sleep_until(due), if sent_until.is_none() => {
                late.add(due.elapsed().as_micros() as u64);
                let second = (due - start).as_secs() as usize;
                if buckets.len() <= second {
                    buckets.resize(second + 1, (0, Tally::default()));
                }
                buckets[second].0 += 1;
                if waiting >= limit {
                    buckets[second].1.add(&Outcome::NotSent, Duration::ZERO);
                    total.add(&Outcome::NotSent, Duration::ZERO);
                } else {
                    waiting += 1;
                    let req = authorized(client.get(url.clone()), token.as_deref());
                    let (tx, was_due) = (tx.clone(), due);
                    tokio::spawn(async move {
                        let outcome = outcome(req.send().await).await;
                        let _ = tx.send((second, outcome, was_due.elapsed()));
                    });
                }
                due += period;
            }
        }
        // Stopped sending: wait for the answers still due (each ends by its timeout).
        if sent_until.is_some() && waiting == 0 {
            break;
        }
    }
    // The seconds no tick told yet: the last one, whose tick the end of the run can beat.
    for (i, (sent, t)) in buckets.iter().enumerate().skip(ticks) {
        let s = Second {
            at: i as u64 + 1,
            sent: *sent,
            ok: t.ok,
            failed: t.failures(),
        };
        each_second(&s, &total);
    }
    let seconds = buckets
        .iter()
        .enumerate()
        .map(|(i, (sent, t))| Second {
            at: i as u64 + 1,
            sent: *sent,
            ok: t.ok,
            failed: t.failures(),
        })
        .collect();
    Run {
        rate,
        elapsed: sent_until.unwrap_or_else(|| start.elapsed()),
        tally: total,
        seconds,
        late_p99_ms: late
            .quantile(0.99)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0),
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
