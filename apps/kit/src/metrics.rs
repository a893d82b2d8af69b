//! Prometheus metrics (`prometheus-client`): request counts and latency histograms by method,
//! route template and status, in the OpenMetrics text format.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::TypedMetric;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Histogram upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "OTHER",
];
/// The route label of requests that matched no route (keeps label cardinality bounded).
pub const UNMATCHED: &str = "unmatched";
/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    /// Route templates by index (0 = unmatched).
    routes: Vec<&'static str>,
    /// Path to route index, matched like the router does.
    matcher: matchit::Router<u16>,
    requests: Family<Labels, Counter>,
    durations: Histograms,
    registry: Registry,
}

impl Metrics {
    /// `routes` are the router's path templates; anything else is counted as `unmatched`.
    /// `app` prefixes the app's own metrics (`<app>_log_lines_dropped`).
    pub fn new(
        app: &'static str,
        routes: impl IntoIterator<Item = String>,
        log_dropped: fn() -> u64,
    ) -> Self {
        let mut all = vec![UNMATCHED];
        all.extend(routes.into_iter().map(|r| intern(&r)));
        let mut matcher = matchit::Router::new();
        for (i, route) in all.iter().enumerate().skip(1) {
            // The templates come from the router itself, so they are valid and distinct.
            let _ = matcher.insert(*route, i as u16);
        }
        let requests = Family::<Labels, Counter>::default();
        let durations = Histograms::new_with_constructor(|| Histogram::new(BUCKETS));
        let mut registry = Registry::default();
        registry.register(
            "http_requests",
            "Requests handled, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to produce the response head",
            durations.clone(),
        );
        registry.register_collector(Box::new(LogDropped {
            name: intern(&format!("{app}_log_lines_dropped")),
            read: log_dropped,
        }));
        Self {
            routes: all,
            matcher,
            requests,
            durations,
            registry,
        }
    }

    /// The route (template index) a request path belongs to.
    pub fn route_of(&self, path: &str) -> u16 {
        self.matcher.at(path).map_or(0, |m| *m.value)
    }

    pub fn observe(&self, method: &str, route: u16, status: u16, latency: Duration) {
        let labels = Labels {
            method: METHODS
                .iter()
                .find(|m| **m == method)
                .unwrap_or(&METHODS[METHODS.len() - 1]),
            route: self.routes[usize::from(route)],
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(latency.as_secs_f64());
    }

    /// The OpenMetrics text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String does not fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A route template (or metric name) as a `&'static str`. They are the same few strings for
/// every app built in the process, so this leaks each distinct one once.
fn intern(route: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(s) = seen.iter().find(|s| **s == route) {
        return s;
    }
    let s: &'static str = Box::leak(route.into());
    seen.push(s);
    s
}

/// `<app>_log_lines_dropped_total`, read from the logger at each scrape.
#[derive(Debug)]
struct LogDropped {
    name: &'static str,
    read: fn() -> u64,
}

impl Collector for LogDropped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new((self.read)());
        let metric = encoder.encode_descriptor(
            self.name,
            "Log lines dropped because the log writer fell behind",
            None,
            ConstCounter::<u64>::TYPE,
        )?;
        counter.encode(metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::new("api", ["/list".into(), "/v1/payments/{id}".into()], || 7);
        assert_eq!(m.route_of("/v1/payments/12"), 2);
        assert_eq!(m.route_of("/v1/payments"), 0);
        let list = m.route_of("/list");
        m.observe("GET", list, 200, Duration::from_micros(300));
        m.observe("GET", list, 200, Duration::from_millis(3));
        m.observe("BREW", m.route_of("/nope"), 404, Duration::from_secs(9));
        let text = m.render();
        assert!(
            text.contains("http_requests_total{method=\"GET\",route=\"/list\",status=\"200\"} 2\n"),
            "{text}"
        );
        let bucket = |le: &str, labels: &str, n: u64| {
            format!("http_request_duration_seconds_bucket{{le=\"{le}\",{labels}}} {n}\n")
        };
        let list = "method=\"GET\",route=\"/list\",status=\"200\"";
        let other = "method=\"OTHER\",route=\"unmatched\",status=\"404\"";
        for line in [
            bucket("0.0005", list, 1),
            bucket("0.005", list, 2),
            format!("http_requests_total{{{other}}} 1\n"),
            bucket("5.0", other, 0),
            bucket("+Inf", other, 1),
            format!("http_request_duration_seconds_count{{{list}}} 2\n"),
        ] {
            assert!(text.contains(&line), "no {line:?} in\n{text}");
        }
        assert!(text.contains("api_log_lines_dropped_total 7\n"));
        assert!(text.ends_with("# EOF\n"));
    }
}
