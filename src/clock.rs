//! Dates from the system clock, in UTC, without a date library: image timestamps, log lines
//! and snapshot names.

/// `secs` since the Unix epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from day count (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `YYYYMMDD-HHMMSS` in UTC: a name part that sorts by time.
pub fn stamp(secs: u64) -> String {
    rfc3339(secs)
        .trim_end_matches('Z')
        .replace(['-', ':'], "")
        .replace('T', "-")
}

/// Today in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    rfc3339(now_secs())[..10].to_string()
}

/// The longest duration accepted: longer is a typo, and would overflow a deadline.
pub const MAX_DURATION_HOURS: u64 = 720;

/// A duration written as `90s`, `15m`, `1h` or plain seconds, at most 720h (30 days).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: use e.g. 90s, 15m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use s, m or h)")),
    };
    if secs > MAX_DURATION_HOURS * 3600 {
        return Err(format!("`{s}` is too long: at most {MAX_DURATION_HOURS}h"));
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(stamp(1_700_000_000), "20231114-221320");
    }
}
