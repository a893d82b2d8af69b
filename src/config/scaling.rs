//! Checks on a service's `scaling:`: bounds, targets, and how they sit with `desired`.

use marked_yaml::Spanned;

use super::error::Issues;
use super::file::{ScalingFile, ServiceFile};
use super::model::Scaling;

/// Tasks a service may run at most (also the limit on `desired`).
pub const MAX_TASKS: u32 = 100;
/// Target CPU percent: below 10 the service scales out on noise, above 90 it is saturated
/// before it scales.
pub const CPU: std::ops::RangeInclusive<u32> = 10..=90;
/// Target requests per task per minute.
pub const REQUESTS: std::ops::RangeInclusive<u32> = 1..=100_000;

/// The validated scaling, and the count the service starts with (`desired`, or `min` when
/// `desired` is not given).
pub(super) fn scaling(
    name: &str,
    s: &ServiceFile,
    f: &ScalingFile,
    issues: &mut Issues,
) -> Option<(Scaling, u32)> {
    let before = issues.list.len();
    for (key, n) in [("min", &f.min), ("max", &f.max)] {
        if !(1..=MAX_TASKS).contains(&**n) {
            issues.at(
                n.span(),
                format!("scaling.{key} is {}; it must be 1 to {MAX_TASKS}", **n),
                Some("a service runs at least one task, at most 100".into()),
            );
        }
    }
    if *f.min > *f.max {
        issues.at(
            f.min.span(),
            format!(
                "scaling.min ({}) is greater than scaling.max ({})",
                *f.min, *f.max
            ),
            Some("make `min` at most `max`".into()),
        );
    }
    target(&f.cpu, CPU, "cpu", "percent of CPU", issues);
    target(
        &f.requests,
        REQUESTS,
        "requests",
        "requests per task per minute",
        issues,
    );
    if f.cpu.is_none() && f.requests.is_none() {
        issues.at(
            f.min.span(),
            format!("service `{name}`: `scaling` has no target"),
            Some(
                "add `cpu: 60` (average CPU percent) or `requests: 1000` (per task per minute)"
                    .into(),
            ),
        );
    }
    if let Some(r) = f.requests.as_ref().filter(|_| !s.is_public()) {
        issues.at(
            r.span(),
            format!(
                "service `{name}` is not public: it gets no requests through the load balancer"
            ),
            Some("scale it on `cpu`, or make it `public: true`".into()),
        );
    }
    let desired = match &s.desired {
        None => *f.min,
        Some(d) => {
            if **d < *f.min || **d > *f.max {
                issues.at(
                    d.span(),
                    format!(
                        "desired ({}) is outside scaling's bounds ({} to {})",
                        **d, *f.min, *f.max
                    ),
                    Some("with `scaling`, `desired` is the starting count: leave it out (it is then `min`) or put it within the bounds".into()),
                );
            }
            **d
        }
    };
    if issues.list.len() > before {
        return None;
    }
    Some((
        Scaling {
            min: *f.min,
            max: *f.max,
            cpu: f.cpu.as_ref().map(|c| **c),
            requests: f.requests.as_ref().map(|r| **r),
        },
        desired,
    ))
}

fn target(
    v: &Option<Spanned<u32>>,
    range: std::ops::RangeInclusive<u32>,
    key: &str,
    what: &str,
    issues: &mut Issues,
) {
    if let Some(n) = v.as_ref().filter(|n| !range.contains(n)) {
        issues.at(
            n.span(),
            format!(
                "scaling.{key} is {}; the target must be {} to {} {what}",
                **n,
                range.start(),
                range.end()
            ),
            None,
        );
    }
}
