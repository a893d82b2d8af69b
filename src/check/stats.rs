//! Counting what requests did: answered or not, by kind of failure, and latency quantiles.
//! Pure, so the arithmetic is tested alone.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Ok,
    /// Any other status.
    Status(u16),
    /// No answer within the request timeout.
    Timeout,
    /// The connection was refused, reset or closed before an answer.
    Connection,
    /// Not sent: too many requests already waiting (the service is not keeping up).
    NotSent,
}

impl Outcome {
    /// The kind of failure, as a report names it (`None`: not a failure).
    pub fn kind(&self) -> Option<String> {
        match self {
            Outcome::Ok => None,
            Outcome::Status(429) => Some("HTTP 429 (the service's per-client rate limit)".into()),
            Outcome::Status(s) => Some(format!("HTTP {s}")),
            Outcome::Timeout => Some("timed out".into()),
            Outcome::Connection => Some("connection refused, reset or closed".into()),
            Outcome::NotSent => Some("not sent: too many requests waiting for an answer".into()),
        }
    }
}

/// Requests counted so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    pub failed: BTreeMap<String, u64>,
    /// Latency of each answered request (any status), in microseconds, from the moment it
    /// was due: a generator that fell behind does not hide the wait.
    latencies: Vec<u64>,
}

impl Tally {
    pub fn add(&mut self, outcome: &Outcome, latency: Duration) {
        self.sent += 1;
        match outcome.kind() {
            None => self.ok += 1,
            Some(k) => *self.failed.entry(k).or_default() += 1,
        }
        if matches!(outcome, Outcome::Ok | Outcome::Status(_)) {
            self.latencies
                .push(latency.as_micros().min(u128::from(u64::MAX)) as u64);
        }
    }

    pub fn failures(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Failed requests in percent of those sent.
    pub fn error_percent(&self) -> f64 {
        match self.sent {
            0 => 0.0,
            n => self.failures() as f64 * 100.0 / n as f64,
        }
    }

    /// The latency `q` (0..=1) of answered requests are at or under (nearest rank).
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Some(Duration::from_micros(sorted[rank - 1]))
    }

    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.ok += other.ok;
        for (k, n) in &other.failed {
            *self.failed.entry(k.clone()).or_default() += n;
        }
        self.latencies.extend_from_slice(&other.latencies);
    }

    pub fn latency(&self) -> Latency {
        let ms = |q| self.quantile(q).map(|d| d.as_secs_f64() * 1000.0);
        Latency {
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            max_ms: ms(1.0),
        }
    }
}

/// Latency quantiles in milliseconds (`None`: nothing was answered).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// `4.2 ms`, `1.35 s`, `-`.
pub fn ms(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(m) if m >= 1000.0 => format!("{:.2} s", m / 1000.0),
        Some(m) if m >= 100.0 => format!("{m:.0} ms"),
        Some(m) => format!("{m:.1} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_over_answered_requests() {
        let mut t = Tally::default();
        for i in 1..=100 {
            t.add(&Outcome::Ok, Duration::from_millis(i));
        }
        t.add(&Outcome::Timeout, Duration::from_secs(10));
        assert_eq!(t.quantile(0.5), Some(Duration::from_millis(50)));
        assert_eq!(t.quantile(0.99), Some(Duration::from_millis(99)));
        assert_eq!(
            t.quantile(1.0),
            Some(Duration::from_millis(100)),
            "a timeout has no latency"
        );
        assert_eq!((t.sent, t.ok, t.failures()), (101, 100, 1));
        assert!((t.error_percent() - 100.0 / 101.0).abs() < 1e-9);
        assert_eq!(Tally::default().quantile(0.5), None);
    }

    #[test]
    fn failures_are_counted_by_kind_and_a_429_says_why() {
        let mut t = Tally::default();
        t.add(&Outcome::Status(503), Duration::from_millis(1));
        t.add(&Outcome::Status(503), Duration::from_millis(1));
        t.add(&Outcome::Status(429), Duration::from_millis(1));
        t.add(&Outcome::Connection, Duration::ZERO);
        let mut u = Tally::default();
        u.add(&Outcome::Ok, Duration::from_millis(3));
        t.merge(&u);
        assert_eq!(t.failed["HTTP 503"], 2);
        assert!(
            t.failed
                .keys()
                .any(|k| k.contains("429") && k.contains("rate limit"))
        );
        assert_eq!((t.sent, t.ok, t.failures()), (5, 1, 4));
        assert_eq!(t.quantile(1.0), Some(Duration::from_millis(3)));
        assert_eq!(ms(Some(4.24)), "4.2 ms");
        assert_eq!(ms(Some(1350.0)), "1.35 s");
    }
}
