//! The bytes of a JSON log line: string literals, integers, RFC 3339 timestamps.

use std::cell::Cell;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends `n` in decimal, without the `fmt` machinery.
pub(super) fn push_u64(out: &mut Vec<u8>, n: u64) {
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
    use std::time::Duration;

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
}
