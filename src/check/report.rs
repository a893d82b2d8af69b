//! What the checks print: a smoke run's steps, a load run's figures and its verdict against
//! the thresholds, for people (text) and scripts (JSON).

use serde::Serialize;
use serde_json::{Value, json};

use super::load::Run;
use super::smoke::{Step, Verdict};
use super::stats::ms;

/// The innermost cause of a failed request, in one line.
pub fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer within the timeout".into();
    }
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    format!("{what}: {inner}")
}

pub fn smoke_text(url: &str, steps: &[Step]) -> String {
    let mut out = format!("Smoke check of {url}\n");
    for s in steps {
        let mark = match s.verdict {
            Verdict::Pass => "ok  ",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        out.push_str(&format!("  {mark} {}: {}\n", s.name, s.detail));
    }
    let failed = steps.iter().filter(|s| s.verdict == Verdict::Fail).count();
    out.push_str(&match failed {
        0 => format!(
            "Passed: {} steps.\n",
            steps.iter().filter(|s| s.verdict == Verdict::Pass).count()
        ),
        n => format!("Failed: {n} of {} steps.\n", steps.len()),
    });
    out
}

/// The limits a load run must keep to pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Failed requests, in percent of those sent.
    pub max_errors_percent: f64,
    /// The 99th percentile latency, in ms.
    pub max_p99_ms: Option<f64>,
}

/// Each threshold, whether the run kept it, in words. A run that sent nothing passes none.
pub fn verdicts(run: &Run, t: &Thresholds) -> Vec<(bool, String)> {
    let errors = run.tally.error_percent();
    let mut out = vec![
        (
            run.tally.sent > 0,
            format!("requests sent: {}", run.tally.sent),
        ),
        (
            errors <= t.max_errors_percent,
            format!(
                "failed requests {} ({errors:.2} %), at most {} % allowed",
                run.tally.failures(),
                t.max_errors_percent
            ),
        ),
    ];
    if let Some(max) = t.max_p99_ms {
        let p99 = run.latency().p99_ms;
        out.push((
            p99.is_some_and(|p| p <= max),
            format!("p99 latency {}, at most {} allowed", ms(p99), ms(Some(max))),
        ));
    }
    out
}

/// The figures of a run and, each on a line, whether it kept `t`, then its verdict.
pub fn load_text(url: &str, run: &Run, t: &Thresholds) -> String {
    let verdicts = verdicts(run, t);
    let mut out = load_figures(url, run);
    for (ok, what) in &verdicts {
        out.push_str(&format!("  {} {what}\n", if *ok { "ok  " } else { "FAIL" }));
    }
    out.push_str(if verdicts.iter().all(|(ok, _)| *ok) {
        "Passed.\n"
    } else {
        "Failed.\n"
    });
    out
}

/// What a run sent and got: requests, failures by kind, latency.
pub fn load_figures(url: &str, run: &Run) -> String {
    let l = run.latency();
    let mut out = format!(
        "Load check of {url}: {} requests a second for {:.1} s\n  requests  {} sent, {} answered 2xx, {} failed ({:.1} a second sent)\n",
        run.rate,
        run.elapsed.as_secs_f64(),
        run.tally.sent,
        run.tally.ok,
        run.tally.failures(),
        run.achieved(),
    );
    for (kind, n) in &run.tally.failed {
        out.push_str(&format!("    {n:>8}  {kind}\n"));
    }
    out.push_str(&format!(
        "  latency   p50 {}, p90 {}, p99 {}, max {}\n",
        ms(l.p50_ms),
        ms(l.p90_ms),
        ms(l.p99_ms),
        ms(l.max_ms)
    ));
    if run.late_p99_ms > 10.0 {
        out.push_str(&format!(
            "  warning: this machine sent its requests up to {} late (p99): it, not the service, may have been the limit\n",
            ms(Some(run.late_p99_ms))
        ));
    }
    out
}

/// One line a second while a run goes: the requests due in the second just ended, and the
/// totals so far.
pub fn progress(s: &super::load::Second, total: &super::stats::Tally) {
    eprintln!(
        "  {:>4} s  {:>6} sent  {:>6} ok  {:>5} failed   (total {} answered, {} failed, p99 {})",
        s.at,
        s.sent,
        s.ok,
        s.failed,
        total.sent,
        total.failures(),
        ms(total.latency().p99_ms)
    );
}

pub fn load_json(url: &str, run: &Run, t: &Thresholds) -> Value {
    let verdicts = verdicts(run, t);
    json!({
        "url": url,
        "rate": run.rate,
        "seconds": run.elapsed.as_secs_f64(),
        "sent": run.tally.sent,
        "ok": run.tally.ok,
        "failed": run.tally.failures(),
        "failed_by_kind": run.tally.failed,
        "achieved_per_second": run.achieved(),
        "latency": run.latency(),
        "late_p99_ms": run.late_p99_ms,
        "thresholds": t,
        "passed": verdicts.iter().all(|(ok, _)| *ok),
        "per_second": run.seconds,
    })
}
