//! Structured logs: one JSON object per line on stdout, filtered by `RUST_LOG`.
//!
//! Events are formatted on the calling thread and queued to `tracing-appender`'s non-blocking
//! writer, whose `log-writer` thread writes them out in batches, so a request never waits on
//! stdout. If the writer falls behind, lines are dropped and counted rather than growing memory.
//! Shutdown is the guard's drop: it tells the writer to stop, waits (about a second at most)
//! while it drains the queue and flushes, and returns.

mod json;

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::sync::OnceLock;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use json::push_u64;
pub use json::{json_str, write_timestamp};
pub use tracing_appender::non_blocking::WorkerGuard;

/// What the writer thread batches into one write to stdout.
const OUT_BUFFER: usize = 64 * 1024;

static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Lines dropped so far by the process's logger (for `/metrics`).
pub fn dropped() -> u64 {
    DROPPED.get().map_or(0, |c| c.dropped_lines() as u64)
}

/// Installs the JSON logger on stdout with `RUST_LOG` filtering (default `info`). Keep the
/// guard until the process exits: dropping it writes out what is still queued.
pub fn init() -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, guard) = JsonLayer::new(BufWriter::with_capacity(OUT_BUFFER, std::io::stdout()));
    let _ = DROPPED.set(layer.writer.error_counter());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
    guard
}

/// Formats events as JSON lines and queues them to a writer thread.
#[derive(Clone)]
pub struct JsonLayer {
    writer: NonBlocking,
}

impl JsonLayer {
    /// A layer whose lines `out` receives on a `log-writer` thread; the guard drains and
    /// flushes them when dropped.
    pub fn new(out: impl Write + Send + 'static) -> (Self, WorkerGuard) {
        let (writer, guard) = NonBlockingBuilder::default()
            .lossy(true)
            .thread_name("log-writer")
            .finish(out);
        (Self { writer }, guard)
    }

    /// A layer whose lines stay in memory, for reading the log in-process (tests).
    pub fn in_memory() -> (Self, Captured) {
        let buf = Memory::default();
        let (layer, guard) = Self::new(buf.clone());
        (layer, Captured { buf, guard })
    }
}

/// The lines an [`JsonLayer::in_memory`] layer wrote.
pub struct Captured {
    buf: Memory,
    guard: WorkerGuard,
}

impl Captured {
    /// Everything logged so far, once the writer has drained (it stops then).
    pub fn finish(self) -> String {
        drop(self.guard);
        let bytes = self.buf.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[derive(Clone, Default)]
struct Memory(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    /// and queues the line to the writer thread.
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
            // Lossy: a full queue counts the line as dropped instead of failing.
            let _ = self.writer.clone().write_all(line);
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

/// Defines `pub fn access(&Access)`, logging one request at INFO under `$target` (a literal:
/// `tracing` needs the target at compile time), as `RUST_LOG` allows. Straight into the JSON
/// layer when it is the current subscriber's; otherwise as an ordinary `tracing` event.
#[macro_export]
macro_rules! access_log {
    ($target:literal) => {
        /// Logs one request under this app's access target (see `kit::access_log!`).
        pub fn access(access: &$crate::logging::Access<'_>) {
            if !$crate::tracing::enabled!(target: $target, $crate::tracing::Level::INFO) {
                return;
            }
            if !$crate::logging::write_access($target, access) {
                $crate::tracing::info!(
                    target: $target,
                    method = access.method,
                    path = access.path,
                    status = u64::from(access.status),
                    latency_us = access.latency_us,
                );
            }
        }
    };
}

/// Writes `access` as the JSON layer would format the event `access_log!` falls back to, when
/// the current subscriber has that layer; false otherwise. This runs once per request: it
/// skips the field visitors. (No event may be dispatched inside `get_default`: it would go
/// nowhere.)
pub fn write_access(target: &str, access: &Access<'_>) -> bool {
    tracing::dispatcher::get_default(|d| {
        let layer = d.downcast_ref::<JsonLayer>();
        if let Some(layer) = layer {
            layer.write_line("INFO", target, |line| {
                line.extend_from_slice(b",\"method\":");
                json_str(line, access.method);
                line.extend_from_slice(b",\"path\":");
                json_str(line, access.path);
                line.extend_from_slice(b",\"status\":");
                push_u64(line, u64::from(access.status));
                line.extend_from_slice(b",\"latency_us\":");
                push_u64(line, access.latency_us);
            });
        }
        layer.is_some()
    })
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

    crate::access_log!("api::access");

    #[test]
    fn events_become_json_lines() {
        let (layer, captured) = JsonLayer::in_memory();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "api::access", method = "GET", status = 200u64, ok = true, "done");
        });
        let out = captured.finish();
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
        let (layer, captured) = JsonLayer::in_memory();
        let subscriber = tracing_subscriber::registry().with(layer);
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
        let out = captured.finish();
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
        let (layer, captured) = JsonLayer::in_memory();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info,api::access=off"))
            .with(layer);
        tracing::subscriber::with_default(subscriber, || access(&ODD));
        assert!(captured.finish().is_empty());
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
