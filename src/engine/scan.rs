//! The scan gate: once `up` has pushed its images, what ECR's scan on push found in each, and
//! with `--fail-on`, no task definition changes while an image has findings that severe, or
//! while that cannot be told (a scan that did not run, or did not finish in time): a gate
//! that lets an unscanned image through would only look like one.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::Progress;
use crate::aws::scan::{self, Scan, Severity};
use crate::aws::{Aws, AwsError};
use crate::config::Stack;

/// `up --fail-on` and `--scan-wait`.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub fail_on: Option<Severity>,
    pub wait: Duration,
}

/// Why the gate stopped the deploy.
#[derive(Debug, thiserror::Error)]
#[error("the deploy stopped before any task definition changed: {}", .reasons.join("; "))]
pub struct Stopped {
    pub reasons: Vec<String>,
    pub hint: String,
}

/// Reads the scan of each image pushed (`(service, reference)`), says what it found, and
/// stops the deploy as `gate` says. `stop`: the wait ends early once set.
pub async fn check(
    aws: &Aws,
    stack: &Stack,
    pushed: &[(String, String)],
    gate: Gate,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<Result<(), Stopped>, AwsError> {
    let names = stack.names();
    let names = &names;
    let scans = futures::future::join_all(pushed.iter().map(|(svc, reference)| async move {
        let digest = reference
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default();
        let task = progress.start(format!("scan image {svc}"));
        let result = scan::wait(aws, &names.repository(svc), digest, gate.wait, stop, |s| {
            progress.update(&task, s)
        })
        .await;
        match &result {
            Ok(s) => progress.finish(task, &summary(s)),
            Err(e) => progress.finish(task, &format!("failed: {e}")),
        }
        result.map(|s| (svc.clone(), s))
    }))
    .await;
    let mut reasons = Vec::new();
    for scan in scans {
        let (svc, scan) = scan?;
        if let Some(level) = gate.fail_on
            && let Some(why) = refusal(&scan, level)
        {
            reasons.push(format!("image {svc} {why}"));
        }
    }
    if reasons.is_empty() {
        return Ok(Ok(()));
    }
    let level = gate.fail_on.map_or("", Severity::word);
    Ok(Err(Stopped {
        reasons,
        hint: format!(
            "update what the findings name (or the `base:` image) and run `stackctl up` again; an image ECR cannot scan needs a `base:` with an operating system it reads, or enhanced scanning (Amazon Inspector); `--fail-on {level}` left out deploys anyway"
        ),
    }))
}

/// One line: the counts by severity and the worst findings, or why there are none.
pub fn summary(scan: &Scan) -> String {
    match scan {
        Scan::Done { counts, findings }
            if counts.values().all(|n| *n == 0) && findings.is_empty() =>
        {
            "no findings".into()
        }
        Scan::Done { counts, findings } => {
            let counts: Vec<String> = counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| format!("{n} {}", s.word()))
                .collect();
            let worst: Vec<String> = findings
                .iter()
                .take(3)
                .map(|f| match &f.package {
                    Some(p) => format!("{} in {p}", f.name),
                    None => f.name.clone(),
                })
                .collect();
            let more = findings.len().saturating_sub(worst.len());
            format!(
                "{}: {}{}",
                counts.join(", "),
                worst.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        }
        Scan::NotScanned { status, why } if status == "UNSUPPORTED_IMAGE" => format!(
            "not scanned: ECR reads operating-system packages, and this image has none it knows ({})",
            if why.is_empty() { status } else { why }
        ),
        Scan::NotScanned { status, why } => {
            format!("not scanned: {status} {why}").trim_end().into()
        }
        Scan::Pending { waited } => format!("still scanning after {}s", waited.as_secs()),
    }
}

/// Why `scan` stops a deploy that fails on `level` and worse, if it does.
pub fn refusal(scan: &Scan, level: Severity) -> Option<String> {
    match scan {
        Scan::Done { counts, .. } => {
            let over: u32 = counts
                .iter()
                .filter(|(s, _)| **s <= level)
                .map(|(_, n)| n)
                .sum();
            (over > 0).then(|| {
                format!(
                    "has {over} finding{} {} or worse",
                    if over == 1 { "" } else { "s" },
                    level.word()
                )
            })
        }
        Scan::NotScanned { status, .. } => Some(format!(
            "was not scanned ({status}): its findings cannot be told"
        )),
        Scan::Pending { waited } => Some(format!(
            "was still being scanned after {}s (`--scan-wait` waits longer)",
            waited.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::aws::scan::Finding;

    fn done(counts: &[(Severity, u32)]) -> Scan {
        Scan::Done {
            counts: counts.iter().copied().collect::<BTreeMap<_, _>>(),
            findings: vec![Finding {
                name: "CVE-2024-0001".into(),
                severity: counts.first().map_or(Severity::Low, |c| c.0),
                package: Some("openssl".into()),
            }],
        }
    }

    #[test]
    fn the_gate_stops_at_its_level_and_on_what_it_cannot_tell() {
        let high = done(&[(Severity::High, 2), (Severity::Low, 1)]);
        assert_eq!(
            refusal(&high, Severity::High).unwrap(),
            "has 2 findings high or worse"
        );
        assert!(refusal(&high, Severity::Critical).is_none());
        let clean = Scan::Done {
            counts: BTreeMap::new(),
            findings: vec![],
        };
        assert!(refusal(&clean, Severity::High).is_none());
        assert_eq!(summary(&clean), "no findings");
        let unsupported = Scan::NotScanned {
            status: "UNSUPPORTED_IMAGE".into(),
            why: "The operating system and/or package manager are not supported.".into(),
        };
        assert!(
            refusal(&unsupported, Severity::Critical)
                .unwrap()
                .contains("UNSUPPORTED_IMAGE")
        );
        assert!(summary(&unsupported).contains("has none it knows"));
        let pending = Scan::Pending {
            waited: Duration::from_secs(60),
        };
        assert!(
            refusal(&pending, Severity::High)
                .unwrap()
                .contains("--scan-wait")
        );
        assert_eq!(summary(&high), "2 high, 1 low: CVE-2024-0001 in openssl");
    }
}
