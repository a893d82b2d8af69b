//! Structured logs: one JSON object per line on stdout, filtered by `RUST_LOG`.
//!
//! Events are formatted on the calling thread into a shared buffer that a background thread
//! writes out, so a request never waits on stdout. If the writer falls behind, lines are
//! dropped and counted rather than growing memory.

mod json;
mod sink;

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use json::push_u64;
pub use json::{json_str, write_timestamp};
pub use sink::Sink;

static SINK: OnceLock<Sink> = OnceLock::new();

fn global() -> &'static Sink {
    SINK.get_or_init(Sink::default)
}

/// Lines dropped so far by the global sink (for `/metrics`).
pub fn dropped() -> u64 {
    SINK.get().map_or(0, Sink::dropped)
}

/// Installs the JSON logger with `RUST_LOG` filtering (default `info`) and starts the writer.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let sink = global();
    let started = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut spare = Vec::new();
            loop {
                sink.write_out(Duration::from_millis(50), &mut spare);
            }
        });
    if started.is_err() {
        eprintln!("api: cannot start the log writer thread");
    }
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(JsonLayer { sink })
        .try_init();
}

/// Writes out whatever is buffered (call before exiting).
pub fn flush() {
    if let Some(sink) = SINK.get() {
        sink.write_out(Duration::ZERO, &mut Vec::new());
    }
}

#[derive(Clone, Copy)]
pub struct JsonLayer {
    pub sink: &'static Sink,
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        self.write_line(meta.level().as_str(), meta.target(), |line| {
            event.record(&mut JsonFields(line));
        });
    }
}

impl JsonLayer {
    /// Formats `{"ts":…,"level":…,"target":…`, then what `fields` appends, then `}` and a
    /// newline, in this thread's buffer (a fresh one if a line is already being formatted),
    /// and hands the line to the sink.
    fn write_line(&self, level: &str, target: &str, fields: impl FnOnce(&mut Vec<u8>)) {
        thread_local! {
            static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
        }
        let write = |line: &mut Vec<u8>| {
            line.clear();
            line.extend_from_slice(b"{\"ts\":\"");
            write_timestamp(line, SystemTime::now());
            line.extend_from_slice(b"\",\"level\":\"");
            line.extend_from_slice(level.as_bytes());
            line.extend_from_slice(b"\",\"target\":");
            json_str(line, target);
            fields(line);
            line.extend_from_slice(b"}\n");
            self.sink.push(line);
            line.shrink_to(4096);
        };
        let _ = LINE.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => write(&mut line),
            Err(_) => write(&mut Vec::new()),
        });
    }
}

/// One request, as the access log records it.
pub struct Access<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_us: u64,
}

/// Logs `access` at INFO under the `api::access` target, as `RUST_LOG` allows. Straight into the
/// JSON layer when it is the current subscriber's; otherwise as an ordinary `tracing` event.
pub fn access(access: &Access<'_>) {
    if !tracing::enabled!(target: "api::access", tracing::Level::INFO) {
        return;
    }
    // Found first, used after: an event dispatched inside `get_default` would go nowhere.
    let layer = tracing::dispatcher::get_default(|d| d.downcast_ref::<JsonLayer>().copied());
    match layer {
        // The same bytes as the event below would give, without the field visitors: this
        // runs once per request.
        Some(layer) => layer.write_line("INFO", "api::access", |line| {
            line.extend_from_slice(b",\"method\":");
            json_str(line, access.method);
            line.extend_from_slice(b",\"path\":");
            json_str(line, access.path);
            line.extend_from_slice(b",\"status\":");
            push_u64(line, u64::from(access.status));
            line.extend_from_slice(b",\"latency_us\":");
            push_u64(line, access.latency_us);
        }),
        None => tracing::info!(
            target: "api::access",
            method = access.method,
            path = access.path,
            status = u64::from(access.status),
            latency_us = access.latency_us,
        ),
    }
}

struct JsonFields<'a>(&'a mut Vec<u8>);

impl JsonFields<'_> {
    fn key(&mut self, field: &Field) {
        self.0.push(b',');
        json_str(
            self.0,
            if field.name() == "message" {
                "msg"
            } else {
                field.name()
            },
        );
        self.0.push(b':');
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        json_str(self.0, value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        push_u64(self.0, value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        self.0
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0
            .extend_from_slice(if value { b"true" } else { b"false" });
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.0, "{value}");
        } else {
            self.0.extend_from_slice(b"null");
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        json_str(self.0, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use super::*;

    #[test]
    fn events_become_json_lines() {
        let sink: &'static Sink = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(JsonLayer { sink });
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "api::access", method = "GET", status = 200u64, ok = true, "done");
        });
        let out = String::from_utf8(sink.take(Duration::ZERO)).unwrap();
        assert!(out.ends_with("}\n") && out.lines().count() == 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "api::access");
        assert_eq!(v["method"], "GET");
        assert_eq!(v["status"], 200);
        assert_eq!(v["ok"], true);
        assert_eq!(v["msg"], "done");
    }

    fn without_ts(line: &str) -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v.as_object_mut().unwrap().remove("ts");
        v
    }

    const ODD: Access<'static> = Access {
        method: "GET",
        path: "/a\"b\\c",
        status: 404,
        latency_us: 1234,
    };

    #[test]
    fn the_access_line_is_the_event_it_replaces() {
        let sink: &'static Sink = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(JsonLayer { sink });
        tracing::subscriber::with_default(subscriber, || {
            // The fast path is taken: the layer is found in the subscriber.
            assert!(tracing::dispatcher::get_default(|d| d.is::<JsonLayer>()));
            access(&ODD);
            tracing::info!(
                target: "api::access",
                method = ODD.method,
                path = ODD.path,
                status = u64::from(ODD.status),
                latency_us = ODD.latency_us,
            );
        });
        let out = String::from_utf8(sink.take(Duration::ZERO)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(without_ts(lines[0]), without_ts(lines[1]));
        // Same bytes after the timestamp, so same field order too.
        assert_eq!(
            lines[0].split_once("\",").unwrap().1,
            lines[1].split_once("\",").unwrap().1
        );
        assert_eq!(without_ts(lines[0])["path"], ODD.path);
    }

    #[test]
    fn the_access_line_obeys_the_filter() {
        let sink: &'static Sink = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info,api::access=off"))
            .with(JsonLayer { sink });
        tracing::subscriber::with_default(subscriber, || access(&ODD));
        assert!(sink.take(Duration::ZERO).is_empty());
    }

    #[test]
    fn without_the_json_layer_the_access_line_is_an_event() {
        struct Count(&'static AtomicU64);
        impl<S: Subscriber> Layer<S> for Count {
            fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
                if event.metadata().target() == "api::access" {
                    self.0.fetch_add(1, Relaxed);
                }
            }
        }
        let seen: &'static AtomicU64 = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(Count(seen));
        tracing::subscriber::with_default(subscriber, || access(&ODD));
        assert_eq!(seen.load(Relaxed), 1);
    }
}
