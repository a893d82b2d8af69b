//! Structured logs: one JSON object per line on stdout, filtered by `RUST_LOG`.
//!
//! Events are formatted on the calling thread into a shared buffer that a background thread
//! writes out, so a request never waits on stdout. If the writer falls behind, lines are
//! dropped and counted rather than growing memory.

use std::fmt::Write as _;
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
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.is_empty() && !wait.is_zero() {
            buf = self
                .wake
                .wait_timeout(buf, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        std::mem::take(&mut *buf)
    }

    fn write_out(&self, wait: Duration) {
        let _order = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let batch = self.take(wait);
        if !batch.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&batch).and_then(|()| out.flush());
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
            loop {
                sink.write_out(Duration::from_millis(50));
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
        sink.write_out(Duration::ZERO);
    }
}

pub struct JsonLayer {
    pub sink: &'static Sink,
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = String::with_capacity(256);
        line.push_str("{\"ts\":\"");
        write_timestamp(&mut line, SystemTime::now());
        line.push_str("\",\"level\":\"");
        line.push_str(meta.level().as_str());
        line.push_str("\",\"target\":");
        json_str(&mut line, meta.target());
        event.record(&mut JsonFields(&mut line));
        line.push_str("}\n");
        self.sink.push(line.as_bytes());
    }
}

struct JsonFields<'a>(&'a mut String);

impl JsonFields<'_> {
    fn key(&mut self, field: &Field) {
        self.0.push(',');
        json_str(
            self.0,
            if field.name() == "message" {
                "msg"
            } else {
                field.name()
            },
        );
        self.0.push(':');
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        json_str(self.0, value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0.push_str(if value { "true" } else { "false" });
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.0, "{value}");
        } else {
            self.0.push_str("null");
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        json_str(self.0, &format!("{value:?}"));
    }
}

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T05:06:59.123Z`.
pub fn write_timestamp(out: &mut String, t: SystemTime) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
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
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let mut s = String::new();
        write_timestamp(
            &mut s,
            UNIX_EPOCH + Duration::from_millis(1_795_237_619_123),
        );
        assert_eq!(s, "2026-11-21T05:06:59.123Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(s, "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn escapes() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
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
}
