//! Checks on a service's `deploy:`: a strategy ECS knows, its numbers within ECS's bounds
//! (ECS API Reference, "DeploymentConfiguration", "CanaryConfiguration",
//! "LinearConfiguration"), and a load balancer to move the requests on.

use marked_yaml::{Span, Spanned};

use super::error::{Issues, did_you_mean};
use super::file::{DeployFile, ServiceFile};
use super::model::Deploy;

pub const STRATEGIES: [&str; 4] = ["rolling", "blue-green", "canary", "linear"];
/// ECS's defaults for canary and linear; the bake time is stackctl's (ECS has no default for
/// blue/green and requires one).
pub const CANARY_PERCENT: f64 = 5.0;
pub const CANARY_WAIT: u32 = 10;
pub const LINEAR_PERCENT: f64 = 10.0;
pub const LINEAR_WAIT: u32 = 6;
pub const BAKE_MINUTES: u32 = 5;
/// Waits and bake times: 0 to 24 hours.
pub const MAX_MINUTES: u32 = 1440;

pub(super) fn deploy(
    name: &str,
    s: &ServiceFile,
    d: &Spanned<DeployFile>,
    issues: &mut Issues,
) -> Option<Deploy> {
    let before = issues.list.len();
    let (strategy, span, percent, wait, bake) = match &**d {
        DeployFile::Name(n) => (n.clone(), *d.span(), None, None, None),
        DeployFile::Full(m) => (
            m.strategy.to_string(),
            *m.strategy.span(),
            m.percent.as_ref(),
            m.wait_minutes.as_ref(),
            m.bake_minutes.as_ref(),
        ),
    };
    if !STRATEGIES.contains(&strategy.as_str()) {
        let hint = did_you_mean(&strategy, STRATEGIES)
            .unwrap_or_else(|| format!("one of {}", STRATEGIES.join(", ")));
        issues.at(
            &span,
            format!("service `{name}`: unknown deploy strategy `{strategy}`"),
            Some(hint),
        );
        return None;
    }
    let gradual = matches!(strategy.as_str(), "canary" | "linear");
    for (key, v) in [
        ("percent", percent.map(|p| *p.span())),
        ("wait_minutes", wait.map(|w| *w.span())),
    ] {
        if let Some(at) = v.filter(|_| !gradual) {
            issues.at(
                &at,
                format!("service `{name}`: `{key}` is for `canary` and `linear` only"),
                Some("remove it, or choose `strategy: canary` or `linear`".into()),
            );
        }
    }
    if let Some(b) = bake.filter(|_| strategy == "rolling") {
        issues.at(
            b.span(),
            format!("service `{name}`: a rolling deployment keeps no old version to bake"),
            Some("remove `bake_minutes`, or choose `blue-green`, `canary` or `linear`".into()),
        );
    }
    let (low, default_percent, default_wait) = if strategy == "linear" {
        (3.0, LINEAR_PERCENT, LINEAR_WAIT)
    } else {
        (0.1, CANARY_PERCENT, CANARY_WAIT)
    };
    if let Some(p) = percent.filter(|_| gradual) {
        let tenths = (**p * 10.0).round();
        if !(low..=100.0).contains(&**p) || (tenths - **p * 10.0).abs() > 1e-6 {
            issues.at(
                p.span(),
                format!("service `{name}`: percent is {}; {strategy} takes {low} to 100 in steps of 0.1", **p),
                None,
            );
        }
    }
    for m in [wait, bake].into_iter().flatten() {
        if **m > MAX_MINUTES {
            issues.at(
                m.span(),
                format!("service `{name}`: {} minutes is more than ECS allows", **m),
                Some(format!("at most {MAX_MINUTES} (24 hours)")),
            );
        }
    }
    if strategy != "rolling" && !s.is_public() {
        not_public(name, &strategy, &span, issues);
    }
    if issues.list.len() > before {
        return None;
    }
    let bake_minutes = bake.map_or(BAKE_MINUTES, |b| **b);
    let percent = percent.map_or(default_percent, |p| **p);
    let wait_minutes = wait.map_or(default_wait, |w| **w);
    Some(match strategy.as_str() {
        "blue-green" => Deploy::BlueGreen { bake_minutes },
        "canary" => Deploy::Canary {
            percent,
            wait_minutes,
            bake_minutes,
        },
        "linear" => Deploy::Linear {
            percent,
            wait_minutes,
            bake_minutes,
        },
        _ => Deploy::Rolling,
    })
}

fn not_public(name: &str, strategy: &str, span: &Span, issues: &mut Issues) {
    issues.at(
        span,
        format!(
            "service `{name}` is not public: `{strategy}` moves the load balancer's requests from the old version to the new, and it gets none"
        ),
        Some("deploy it `rolling` (the default), or make it `public: true`".into()),
    );
}

/// A second target group named like another service's first one (`web` deploying
/// blue/green and a service `web-alt`): target group names are unique in a region.
pub(super) fn clashes(
    names: &crate::names::Names,
    services: &[&str],
    shifting: &[&str],
    at: &Span,
    issues: &mut Issues,
) {
    for s in shifting {
        let alternate = names.alternate_target_group(s);
        if let Some(other) = services.iter().find(|o| names.target_group(o) == alternate) {
            issues.at(
                at,
                format!(
                    "service `{s}`'s second target group would be named `{alternate}`, like service `{other}`'s"
                ),
                Some(format!("rename service `{other}`")),
            );
        }
    }
}
