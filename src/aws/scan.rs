//! What ECR's scan on push found in an image of the stack's repositories
//! (DescribeImageScanFindings). Basic scanning reads the image's operating-system packages
//! against the CVE database; enhanced scanning (Amazon Inspector, when the account turns it
//! on) also reads language packages, and keeps its findings up to date (status ACTIVE). An image
//! with no operating system (stackctl's default: the binary alone) is UNSUPPORTED_IMAGE to
//! basic scanning (ECR User Guide, "Scan images for software vulnerabilities in Amazon ECR",
//! and "Troubleshooting image scanning": UnsupportedImageError).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ecr::types::ImageIdentifier;

use super::retry::Backoff;
use super::{Aws, AwsError, Ctx};

/// A finding's severity, from worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Informational,
    Undefined,
}

impl Severity {
    pub fn parse(s: &str) -> Severity {
        match s.to_ascii_uppercase().as_str() {
            "CRITICAL" => Severity::Critical,
            "HIGH" => Severity::High,
            "MEDIUM" => Severity::Medium,
            "LOW" => Severity::Low,
            "INFORMATIONAL" => Severity::Informational,
            _ => Severity::Undefined,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Informational => "informational",
            Severity::Undefined => "undefined",
        }
    }
}

/// One finding: its vulnerability (a CVE), severity and the package it is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub name: String,
    pub severity: Severity,
    pub package: Option<String>,
}

/// A scan's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Scan {
    /// Complete (or ACTIVE, kept up to date): counts by severity, and the findings.
    Done {
        counts: BTreeMap<Severity, u32>,
        findings: Vec<Finding>,
    },
    /// ECR did not scan it, and why (its status and description).
    NotScanned { status: String, why: String },
    /// Still running when the wait ended.
    Pending { waited: Duration },
}

/// How long a scan may take to appear after a push before there is taken to be none.
const NO_SCAN_AFTER: Duration = Duration::from_secs(30);

/// Statuses that end the wait without findings.
const NOT_SCANNED: &[&str] = &[
    "UNSUPPORTED_IMAGE",
    "FAILED",
    "FINDINGS_UNAVAILABLE",
    "SCAN_ELIGIBILITY_EXPIRED",
    "LIMIT_EXCEEDED",
    "IMAGE_ARCHIVED",
];

/// The scan of `digest` in `repository`, waiting up to `wait` for it to finish, or until
/// `stop` is set; `status` is told each new state it reports while waiting.
pub async fn wait(
    aws: &Aws,
    repository: &str,
    digest: &str,
    wait: Duration,
    stop: &AtomicBool,
    status: impl Fn(&str),
) -> Result<Scan, AwsError> {
    let started = Instant::now();
    let every = Duration::from_secs(3).mul_f64(Backoff::scaled());
    let mut told = String::new();
    loop {
        let got = aws
            .ecr
            .describe_image_scan_findings()
            .repository_name(repository)
            .image_id(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await
            .ctx(
                "read the scan findings of",
                format!("{repository}@{digest}"),
            );
        let state = match got {
            // Just pushed: the scan is not registered yet. Still none after a while: none
            // will come (scan on push off, or the registry's scanning rules leave it out).
            Err(e) if e.code() == "ScanNotFoundException" => {
                if started.elapsed() >= NO_SCAN_AFTER.min(wait) {
                    return Ok(Scan::NotScanned {
                        status: "SCAN_NOT_FOUND".into(),
                        why: "ECR made no scan of it: scan on push is off, or the registry's scanning configuration leaves the repository out".into(),
                    });
                }
                "not started".to_string()
            }
            Err(e) => return Err(e),
            Ok(out) => {
                let s = out.image_scan_status();
                let name = s
                    .and_then(|s| s.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                if name == "COMPLETE" || name == "ACTIVE" {
                    return Ok(done(out.image_scan_findings()));
                }
                if NOT_SCANNED.contains(&name.as_str()) {
                    let why = s.and_then(|s| s.description()).unwrap_or_default();
                    return Ok(Scan::NotScanned {
                        status: name,
                        why: why.to_string(),
                    });
                }
                name.to_ascii_lowercase().replace('_', " ")
            }
        };
        let waited = started.elapsed();
        if waited >= wait || stop.load(Ordering::Relaxed) {
            return Ok(Scan::Pending { waited });
        }
        if state != told {
            status(&state);
            told = state;
        }
        tokio::time::sleep(every.min(wait - waited)).await;
    }
}

fn done(f: Option<&aws_sdk_ecr::types::ImageScanFindings>) -> Scan {
    let Some(f) = f else {
        return Scan::Done {
            counts: BTreeMap::new(),
            findings: vec![],
        };
    };
    let mut counts = BTreeMap::new();
    for (severity, n) in f.finding_severity_counts().into_iter().flatten() {
        *counts
            .entry(Severity::parse(severity.as_str()))
            .or_default() += *n as u32;
    }
    let mut findings: Vec<Finding> = f
        .findings()
        .iter()
        .map(|x| Finding {
            name: x.name().unwrap_or_default().to_string(),
            severity: Severity::parse(x.severity().map(|s| s.as_str()).unwrap_or_default()),
            package: x
                .attributes()
                .iter()
                .find(|a| a.key() == "package_name")
                .and_then(|a| a.value())
                .map(str::to_string),
        })
        .chain(f.enhanced_findings().iter().map(|x| {
            Finding {
                name: x
                    .package_vulnerability_details()
                    .and_then(|d| d.vulnerability_id())
                    .or(x.title())
                    .unwrap_or_default()
                    .to_string(),
                severity: Severity::parse(x.severity().unwrap_or_default()),
                package: x
                    .package_vulnerability_details()
                    .and_then(|d| d.vulnerable_packages().first())
                    .and_then(|p| p.name())
                    .map(str::to_string),
            }
        }))
        .collect();
    findings.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.name.cmp(&b.name)));
    Scan::Done { counts, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_from_the_worst() {
        assert!(Severity::Critical < Severity::High);
        assert!(Severity::High < Severity::Medium);
        assert_eq!(Severity::parse("high"), Severity::High);
        assert_eq!(Severity::parse("UNTRIAGED"), Severity::Undefined);
    }
}
