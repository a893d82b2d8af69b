//! `checks:`: what `stackctl check load` does by default and the limits it must keep to
//! pass (each can be given on the command line instead).

use std::time::Duration;

use marked_yaml::Spanned;

use super::error::Issues;
use super::file::ChecksFile;
use super::model::{Checks, LoadCheck};

/// Requests a second one machine sends, at most.
pub const RATE: std::ops::RangeInclusive<u32> = 1..=20_000;
/// How long a load run may last.
pub const LOAD_DURATION: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(3600);

pub(super) fn checks(f: Option<&ChecksFile>, issues: &mut Issues) -> Checks {
    let mut load = LoadCheck::default();
    let Some(l) = f.and_then(|f| f.load.as_ref()) else {
        return Checks { load };
    };
    if let Some(r) = &l.rate {
        if RATE.contains(&**r) {
            load.rate = **r;
        } else {
            issues.at(
                r.span(),
                format!("checks.load.rate is {}; it must be 1 to 20000", **r),
                Some("requests a second, e.g. `rate: 50`".into()),
            );
        }
    }
    if let Some(d) = &l.duration {
        match crate::clock::parse_duration(d) {
            Ok(x) if LOAD_DURATION.contains(&x) => load.duration = x,
            Ok(_) => issues.at(
                d.span(),
                format!("checks.load.duration is {}; it must be 1s to 1h", **d),
                Some("e.g. `duration: 30s` or `5m`".into()),
            ),
            Err(e) => issues.at(
                d.span(),
                format!("checks.load.duration: {e}"),
                Some("e.g. `duration: 30s` or `5m`".into()),
            ),
        }
    }
    if let Some(p) = &l.max_errors_percent {
        match percent(p) {
            Some(x) => load.max_errors_percent = x,
            None => issues.at(
                p.span(),
                format!(
                    "checks.load.max_errors_percent is {}; it must be 0 to 100",
                    **p
                ),
                Some("failed requests in percent of those sent, e.g. `0.1`".into()),
            ),
        }
    }
    if let Some(ms) = &l.max_p99_ms {
        if (1..=600_000).contains(&**ms) {
            load.max_p99_ms = Some(f64::from(**ms));
        } else {
            issues.at(
                ms.span(),
                format!("checks.load.max_p99_ms is {}; it must be 1 to 600000", **ms),
                Some("milliseconds, e.g. `max_p99_ms: 300`".into()),
            );
        }
    }
    Checks { load }
}

fn percent(p: &Spanned<f64>) -> Option<f64> {
    (p.is_finite() && (0.0..=100.0).contains(&**p)).then_some(**p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<crate::config::Stack, crate::config::ConfigError> {
        crate::config::parse_with(extra, None)
    }

    #[test]
    fn checks_default_and_are_read_from_stack_yaml() {
        assert_eq!(parse("").unwrap().checks.load, LoadCheck::default());
        let s = parse("checks:\n  load: { rate: 200, duration: 2m, max_errors_percent: 0.5, max_p99_ms: 250 }\n").unwrap();
        let l = s.checks.load;
        assert_eq!((l.rate, l.duration), (200, Duration::from_secs(120)));
        assert_eq!((l.max_errors_percent, l.max_p99_ms), (0.5, Some(250.0)));
    }

    #[test]
    fn a_bad_check_setting_names_its_line_and_what_to_write() {
        for (yaml, says) in [
            (
                "checks:\n  load: { rate: 0 }\n",
                "checks.load.rate is 0; it must be 1 to 20000",
            ),
            ("checks:\n  load: { duration: 2d }\n", "unknown unit `d`"),
            ("checks:\n  load: { duration: 2h }\n", "it must be 1s to 1h"),
            (
                "checks:\n  load: { max_errors_percent: 101 }\n",
                "it must be 0 to 100",
            ),
            ("checks:\n  load: { rat: 5 }\n", "unknown key `rat`"),
        ] {
            let e = parse(yaml).unwrap_err();
            let text = format!("{e:?}");
            assert!(text.contains(says), "{yaml}: {text}");
            assert!(text.contains("line: 8"), "{yaml}: {text}");
        }
    }
}
