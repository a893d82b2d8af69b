//! Prometheus metrics: request counts and latency histograms by method, route and status.
//! The hot path is a read-locked map lookup and a few relaxed atomic adds.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use foldhash::fast::RandomState;

/// Histogram upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "OTHER",
];
/// The route label of requests that matched no route (keeps label cardinality bounded).
pub const UNMATCHED: &str = "unmatched";

#[derive(Default)]
struct Series {
    /// Per-bucket (non-cumulative) counts; the last slot is +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    route: u16,
    method: u8,
    status: u16,
}

pub struct Metrics {
    routes: Vec<String>,
    route_index: HashMap<String, u16, RandomState>,
    series: RwLock<HashMap<Key, Arc<Series>, RandomState>>,
    log_dropped: fn() -> u64,
}

impl Metrics {
    /// `routes` are the router's path templates; anything else is counted as `unmatched`.
    pub fn new(routes: impl IntoIterator<Item = String>, log_dropped: fn() -> u64) -> Self {
        let mut all = vec![UNMATCHED.to_string()];
        all.extend(routes);
        let route_index = all
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), i as u16))
            .collect();
        Self {
            routes: all,
            route_index,
            series: RwLock::default(),
            log_dropped,
        }
    }

    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, latency: Duration) {
        let key = Key {
            route: route
                .and_then(|r| self.route_index.get(r))
                .copied()
                .unwrap_or(0),
            method: METHODS
                .iter()
                .position(|m| *m == method)
                .unwrap_or(METHODS.len() - 1) as u8,
            status,
        };
        let existing = self
            .series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let series = existing.unwrap_or_else(|| {
            let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
            map.entry(key).or_default().clone()
        });
        let secs = latency.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        series.buckets[bucket].fetch_add(1, Relaxed);
        series
            .sum_nanos
            .fetch_add(latency.as_nanos() as u64, Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut entries: Vec<(Key, Arc<Series>)> = {
            let map = self.series.read().unwrap_or_else(|e| e.into_inner());
            map.iter().map(|(k, s)| (*k, s.clone())).collect()
        };
        entries.sort_by_key(|(k, _)| *k);
        let mut counts = String::new();
        let mut hist = String::new();
        for (key, s) in &entries {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{}\"",
                METHODS[key.method as usize], self.routes[key.route as usize], key.status
            );
            let mut cumulative = 0;
            for (i, b) in s.buckets.iter().enumerate() {
                cumulative += b.load(Relaxed);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    hist,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = s.sum_nanos.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(hist, "http_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                hist,
                "http_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
            let _ = writeln!(counts, "http_requests_total{{{labels}}} {cumulative}");
        }
        format!(
            "# HELP http_requests_total Requests handled, by method, route template and status.\n\
             # TYPE http_requests_total counter\n{counts}\
             # HELP http_request_duration_seconds Time to produce the response head.\n\
             # TYPE http_request_duration_seconds histogram\n{hist}\
             # HELP api_log_lines_dropped_total Log lines dropped because the log writer fell behind.\n\
             # TYPE api_log_lines_dropped_total counter\napi_log_lines_dropped_total {}\n",
            (self.log_dropped)()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::new(["/list".into(), "/v1/payments/{id}".into()], || 7);
        m.observe("GET", Some("/list"), 200, Duration::from_micros(300));
        m.observe("GET", Some("/list"), 200, Duration::from_millis(3));
        m.observe("BREW", Some("/nope"), 404, Duration::from_secs(9));
        let text = m.render();
        assert!(
            text.contains("http_requests_total{method=\"GET\",route=\"/list\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("route=\"/list\",status=\"200\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("route=\"/list\",status=\"200\",le=\"0.005\"} 2\n"));
        assert!(text.contains(
            "http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"404\"} 1\n"
        ));
        assert!(text.contains("route=\"unmatched\",status=\"404\",le=\"5\"} 0\n"));
        assert!(text.contains("route=\"unmatched\",status=\"404\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("api_log_lines_dropped_total 7\n"));
    }
}
