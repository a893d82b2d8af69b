//! Structured logs: one JSON object per line on stdout, filtered by `RUST_LOG`.
//!
//! Events are formatted on the calling thread into a shared buffer that a background thread
//! writes out, so a request never waits on stdout. If the writer falls behind, lines are
//! dropped and counted rather than growing memory.

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

const WAKE_AT: usize = 256 * 1024;
const MAX_BUFFERED: usize = 8 * 1024 * 1024;

/// Lines waiting to be written.
#[derive(Default)]
pub struct Sink {
    buf: Mutex<Vec<u8>>,
    wake: Condvar,
    /// Held while writing a batch, so batches leave in order.
    out: Mutex<()>,
    dropped: AtomicU64,
}

impl Sink {
    fn push(&self, line: &[u8]) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.len() + line.len() > MAX_BUFFERED {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        buf.extend_from_slice(line);
        if buf.len() >= WAKE_AT {
            self.wake.notify_one();
        }
    }

    /// Takes what is buffered (waiting up to `wait` for something to arrive).
    pub fn take(&self, wait: Duration) -> Vec<u8> {
        let mut batch = Vec::new();
        self.swap(wait, &mut batch);
        batch
    }

    /// Swaps the buffer with `spare` (empty), so both keep their capacity.
    fn swap(&self, wait: Duration, spare: &mut Vec<u8>) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.is_empty() && !wait.is_zero() {
            buf = self
                .wake
                .wait_timeout(buf, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        std::mem::swap(&mut *buf, spare);
    }

    fn write_out(&self, wait: Duration, spare: &mut Vec<u8>) {
        let _order = self.out.lock().unwrap_or_else(|e| e.into_inner());
        self.swap(wait, spare);
        if !spare.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(spare).and_then(|()| out.flush());
            spare.clear();
            spare.shrink_to(4 * WAKE_AT);
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

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

pub struct JsonLayer {
    pub sink: &'static Sink,
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        with_line(|line| self.write_event(line, event));
    }
}

/// Runs `f` with this thread's line buffer (a fresh one if a line is already being formatted).
fn with_line(f: impl FnOnce(&mut Vec<u8>)) {
    thread_local! {
        static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    }
    let _ = LINE.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => f(&mut line),
        Err(_) => f(&mut Vec::new()),
    });
}

impl JsonLayer {
    fn write_event(&self, line: &mut Vec<u8>, event: &Event<'_>) {
        let meta = event.metadata();
        line.clear();
        line.extend_from_slice(b"{\"ts\":\"");
        write_timestamp(line, SystemTime::now());
        line.extend_from_slice(b"\",\"level\":\"");
        line.extend_from_slice(meta.level().as_str().as_bytes());
        line.extend_from_slice(b"\",\"target\":");
        json_str(line, meta.target());
        event.record(&mut JsonFields(line));
        line.extend_from_slice(b"}\n");
        self.sink.push(line);
        line.shrink_to(4096);
    }

    /// The access line, byte for byte what the same `tracing` event would give, without the
    /// field visitors: it is written once per request.
    fn write_access(&self, line: &mut Vec<u8>, access: &Access<'_>) {
        line.clear();
        line.extend_from_slice(b"{\"ts\":\"");
        write_timestamp(line, SystemTime::now());
        line.extend_from_slice(b"\",\"level\":\"INFO\",\"target\":\"api::access\",\"method\":");
        json_str(line, access.method);
        line.extend_from_slice(b",\"path\":");
        json_str(line, access.path);
        line.extend_from_slice(b",\"status\":");
        push_u64(line, u64::from(access.status));
        line.extend_from_slice(b",\"latency_us\":");
        push_u64(line, access.latency_us);
        line.extend_from_slice(b"}\n");
        self.sink.push(line);
        line.shrink_to(4096);
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
    let layer = tracing::dispatcher::get_default(|d| {
        d.downcast_ref::<JsonLayer>()
            .map(|l| JsonLayer { sink: l.sink })
    });
    match layer {
        Some(layer) => with_line(|line| layer.write_access(line, access)),
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

/// Appends `n` in decimal, without the `fmt` machinery.
fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for b in s.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b < 0x20 => {
                let _ = write!(out, "\\u{b:04x}");
            }
            // Bytes of multi-byte characters are copied as they are.
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T05:06:59.123Z`. The part up to the
/// seconds is cached per thread: it changes once a second.
pub fn write_timestamp(out: &mut Vec<u8>, t: SystemTime) {
    thread_local! {
        static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
    }
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (cached, mut prefix) = SECOND.with(Cell::get);
    if cached != secs {
        let mut s = Vec::with_capacity(24);
        write_seconds(&mut s, secs);
        prefix.copy_from_slice(&s[..19]);
        SECOND.with(|c| c.set((secs, prefix)));
    }
    out.extend_from_slice(&prefix);
    let ms = d.subsec_millis();
    out.extend_from_slice(&[
        b'.',
        b'0' + (ms / 100) as u8,
        b'0' + (ms / 10 % 10) as u8,
        b'0' + (ms % 10) as u8,
        b'Z',
    ]);
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch.
fn write_seconds(out: &mut Vec<u8>, secs: u64) {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let mut s = Vec::new();
        write_timestamp(
            &mut s,
            UNIX_EPOCH + Duration::from_millis(1_795_237_619_123),
        );
        assert_eq!(String::from_utf8_lossy(&s), "2026-11-21T05:06:59.123Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(String::from_utf8_lossy(&s), "2000-02-29T00:00:00.000Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_millis(951_782_400_007));
        assert_eq!(String::from_utf8_lossy(&s), "2000-02-29T00:00:00.007Z");
    }

    #[test]
    fn escapes() {
        let mut s = Vec::new();
        json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8_lossy(&s), r#""a\"b\\c\nd\u0001é""#);
        s.clear();
        json_str(&mut s, "/v1/payments");
        assert_eq!(String::from_utf8_lossy(&s), r#""/v1/payments""#);
        for n in [0, 7, 10, 12345, u64::MAX] {
            s.clear();
            push_u64(&mut s, n);
            assert_eq!(String::from_utf8_lossy(&s), n.to_string());
        }
    }

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
