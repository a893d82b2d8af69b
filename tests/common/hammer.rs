//! A client that keeps calling the API through the data plane front (40 requests a second,
//! under the API's own limit per client), counting what failed and which revision answered
//! each request: what the deploy tests hold to "no failed request".

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lb::REVISION_HEADER;

#[derive(Default)]
pub struct Tally {
    pub ok: AtomicUsize,
    pub failed: AtomicUsize,
    pub first_failure: Mutex<Option<String>>,
    /// (seconds since the start, the revision that answered).
    pub served: Mutex<Vec<(f64, String)>>,
}

pub struct Hammer {
    pub tally: Arc<Tally>,
    pub started: Instant,
    stop: Arc<AtomicBool>,
    client: tokio::task::JoinHandle<()>,
}

impl Hammer {
    /// GET `url` with the token, from now until [`Hammer::stop`].
    pub fn start(url: &str, token: &str) -> Hammer {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let started = Instant::now();
        let (s, t, url, token) = (
            stop.clone(),
            tally.clone(),
            url.to_string(),
            token.to_string(),
        );
        let client = tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !s.load(Ordering::Relaxed) {
                // 40 a second: under the API's own limit per client (100 a second), as all
                // of them come from this one address.
                tokio::time::sleep(Duration::from_millis(25)).await;
                // When it was sent: the front picks a task as it arrives.
                let at = started.elapsed().as_secs_f64();
                let r = http
                    .get(&url)
                    .header("Authorization", format!("Token {token}"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        t.ok.fetch_add(1, Ordering::Relaxed);
                        let by = r
                            .headers()
                            .get(REVISION_HEADER)
                            .map(|v| v.to_str().unwrap().to_string());
                        t.served.lock().unwrap().push((at, by.unwrap_or_default()));
                    }
                    other => {
                        t.failed.fetch_add(1, Ordering::Relaxed);
                        let what = format!("{:?}", other.map(|r| r.status()));
                        t.first_failure.lock().unwrap().get_or_insert(what);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
        });
        Hammer {
            tally,
            started,
            stop,
            client,
        }
    }

    /// Seconds since the start.
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Requests answered from `from` (seconds) on.
    pub fn answered_since(&self, from: f64) -> usize {
        let served = self.tally.served.lock().unwrap();
        served.iter().filter(|(at, _)| *at >= from).count()
    }

    /// Answers by a revision ending with `rev` (e.g. `:2`) sent in `[from, to)`.
    pub fn by(&self, rev: &str, from: f64, to: f64) -> usize {
        let served = self.tally.served.lock().unwrap();
        served
            .iter()
            .filter(|(at, r)| *at >= from && *at < to && r.ends_with(rev))
            .count()
    }

    /// When a revision ending with `rev` first answered (seconds).
    pub fn first(&self, rev: &str) -> Option<f64> {
        let served = self.tally.served.lock().unwrap();
        served.iter().find(|(_, r)| r.ends_with(rev)).map(|s| s.0)
    }

    /// When a revision ending with `rev` last answered (seconds).
    pub fn last(&self, rev: &str) -> Option<f64> {
        let served = self.tally.served.lock().unwrap();
        served
            .iter()
            .rev()
            .find(|(_, r)| r.ends_with(rev))
            .map(|s| s.0)
    }

    /// Stops calling; (answered, failed, the first failure).
    pub async fn stop(self) -> (usize, usize, Option<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.client.await.unwrap();
        let t = &self.tally;
        (
            t.ok.load(Ordering::Relaxed),
            t.failed.load(Ordering::Relaxed),
            t.first_failure.lock().unwrap().clone(),
        )
    }
}
