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

/// Durations in microseconds, each counted in a bucket 1/64 of its power of two wide: any
/// quantile to within 1.6 %, in a few kilobytes whatever the number of requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    max: u64,
}

const SUB: u64 = 64;

impl Histogram {
    fn index(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        let shift = u64::from(63 - v.leading_zeros()) - 6;
        (SUB + shift * SUB + ((v >> shift) - SUB)) as usize
    }

    /// The largest value bucket `i` holds.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < SUB {
            return i;
        }
        let (shift, m) = ((i - SUB) / SUB, (i - SUB) % SUB + SUB);
        ((m + 1) << shift) - 1
    }

    pub fn add(&mut self, micros: u64) {
        let i = Self::index(micros);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.n += 1;
        self.max = self.max.max(micros);
    }

    pub fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.max = self.max.max(other.max);
    }

    /// The value `q` (0..=1) of the durations are at or under (nearest rank).
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.n == 0 {
            return None;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Duration::from_micros(Self::upper(i).min(self.max)));
            }
        }
        Some(Duration::from_micros(self.max))
    }
}

/// Requests counted so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    pub failed: BTreeMap<String, u64>,
    /// Latency of each answered request (any status) from the moment it was due: a
    /// generator that fell behind does not hide the wait.
    latencies: Histogram,
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
                .add(latency.as_micros().min(u128::from(u64::MAX)) as u64);
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

    /// The latency `q` (0..=1) of answered requests are at or under.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        self.latencies.quantile(q)
    }

    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.ok += other.ok;
        for (k, n) in &other.failed {
            *self.failed.entry(k.clone()).or_default() += n;
        }
        self.latencies.merge(&other.latencies);
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
        // Within the histogram's 1.6 %.
        let near = |q: f64, ms: f64| {
            let got = t.quantile(q).unwrap().as_secs_f64() * 1000.0;
            assert!((got - ms).abs() / ms < 0.016, "q{q}: {got} ms, not {ms}");
        };
        near(0.5, 50.0);
        near(0.99, 99.0);
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

#[cfg(test)]
mod histogram {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_that_holds_it_within_two_percent() {
        for v in (0..200_000u64)
            .step_by(7)
            .chain([u64::from(u32::MAX), 10_000_000_000])
        {
            let i = Histogram::index(v);
            let up = Histogram::upper(i);
            assert!(up >= v, "{v} above its bucket's {up}");
            assert!(
                i == 0 || Histogram::upper(i - 1) < v,
                "{v} in too high a bucket"
            );
            assert!(
                (up - v) as f64 <= (v as f64 / 64.0).max(0.0) + 1.0,
                "{v}: {up}"
            );
        }
        let mut h = Histogram::default();
        h.add(3);
        assert_eq!(h.quantile(0.5), Some(Duration::from_micros(3)));
    }
}
