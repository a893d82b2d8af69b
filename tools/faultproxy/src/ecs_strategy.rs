//! ECS's own deployment strategies (`deploymentConfiguration.strategy`), which moto ignores:
//! what a request may ask for, and the timeline of a blue/green, canary or linear deployment.
//!
//! A deployment of the blue/green family (ECS Developer Guide, "Amazon ECS blue/green service
//! deployments workflow"; "Amazon ECS linear deployments"; "Amazon ECS canary deployments")
//! starts the new revision's tasks in the target group production does not use (SCALE_UP:
//! here, a rollout's length, as a rolling deployment's tasks take), then moves production
//! traffic to it by the listener rule's weights (PRODUCTION_TRAFFIC_SHIFT: at once for
//! BLUE_GREEN; `canaryPercent`, then the rest after `canaryBakeTimeInMinutes`; `stepPercent`
//! more every `stepBakeTimeInMinutes`), keeps the old revision's tasks for
//! `bakeTimeInMinutes` (BAKE_TIME: a rollback is a weight change), then stops them
//! (CLEAN_UP). A minute lasts `FaultConfig::ecs_minute`, so that tests need not wait real
//! minutes.

use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rolling,
    BlueGreen,
    /// Percent of production first, minutes before the rest.
    Canary {
        percent: f64,
        wait: u32,
    },
    /// Percent more each step, minutes between steps.
    Linear {
        step: f64,
        wait: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    pub shape: Shape,
    /// Minutes both revisions run after the shift.
    pub bake: u32,
}

/// ECS's defaults ("CanaryConfiguration", "LinearConfiguration", ECS API Reference).
const CANARY_PERCENT: f64 = 5.0;
const CANARY_WAIT: u32 = 10;
const LINEAR_STEP: f64 = 10.0;
const LINEAR_WAIT: u32 = 6;
/// Bake times and waits are 0 to 1440 minutes (24 hours).
const MAX_MINUTES: i64 = 1440;

fn minutes(v: &Value) -> u32 {
    v.as_i64().unwrap_or(0).clamp(0, MAX_MINUTES) as u32
}

impl Strategy {
    /// The strategy a service's `deploymentConfiguration` names (ROLLING when none).
    pub fn of(config: &Value) -> Strategy {
        let canary = &config["canaryConfiguration"];
        let linear = &config["linearConfiguration"];
        let shape = match config["strategy"].as_str() {
            Some("BLUE_GREEN") => Shape::BlueGreen,
            Some("CANARY") => Shape::Canary {
                percent: canary["canaryPercent"].as_f64().unwrap_or(CANARY_PERCENT),
                wait: canary
                    .get("canaryBakeTimeInMinutes")
                    .map_or(CANARY_WAIT, minutes),
            },
            Some("LINEAR") => Shape::Linear {
                step: linear["stepPercent"].as_f64().unwrap_or(LINEAR_STEP),
                wait: linear
                    .get("stepBakeTimeInMinutes")
                    .map_or(LINEAR_WAIT, minutes),
            },
            _ => Shape::Rolling,
        };
        Strategy {
            shape,
            bake: minutes(&config["bakeTimeInMinutes"]),
        }
    }

    pub fn shifts_traffic(&self) -> bool {
        self.shape != Shape::Rolling
    }

    /// The new revision's share of production (percent) `since` the shift began, and the
    /// moment the next change comes (None: the shift is complete).
    pub fn weight(&self, since: Duration, minute: Duration) -> (f64, Option<Duration>) {
        match self.shape {
            Shape::Rolling | Shape::BlueGreen => (100.0, None),
            Shape::Canary { percent, wait } => {
                let at = minute * wait;
                if since < at {
                    (percent, Some(at))
                } else {
                    (100.0, None)
                }
            }
            Shape::Linear { step, wait } => {
                let step_span = minute * wait;
                let n = if step_span.is_zero() {
                    u32::MAX
                } else {
                    (since.as_secs_f64() / step_span.as_secs_f64()) as u32
                };
                let w = (step * (n.saturating_add(1)) as f64).min(100.0);
                let next = (w < 100.0).then(|| step_span * (n + 1));
                (round(w), next)
            }
        }
    }

    /// How long the production traffic shift lasts.
    pub fn shift_span(&self, minute: Duration) -> Duration {
        let mut t = Duration::ZERO;
        while let (_, Some(next)) = self.weight(t, minute) {
            t = next;
        }
        t
    }
}

fn round(w: f64) -> f64 {
    (w * 10.0).round() / 10.0
}

/// The stages of one blue/green-family deployment, from its start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    pub start: Instant,
    /// The new tasks are healthy; production starts to shift.
    pub scaled: Instant,
    /// All production traffic is on the new revision.
    pub shifted: Instant,
    /// The bake time is over; the old tasks are stopped.
    pub baked: Instant,
}

impl Timeline {
    pub fn new(s: &Strategy, start: Instant, rollout: Duration, minute: Duration) -> Timeline {
        let scaled = start + rollout;
        let shifted = scaled + s.shift_span(minute);
        Timeline {
            start,
            scaled,
            shifted,
            baked: shifted + minute * s.bake,
        }
    }

    /// ECS's `lifecycleStage` at `now` (CLEAN_UP from the end of the bake time on).
    pub fn stage(&self, now: Instant) -> &'static str {
        match now {
            n if n < self.scaled => "SCALE_UP",
            n if n < self.shifted => "PRODUCTION_TRAFFIC_SHIFT",
            n if n < self.baked => "BAKE_TIME",
            _ => "CLEAN_UP",
        }
    }

    /// The new revision's production weight at `now`.
    pub fn weight(&self, s: &Strategy, now: Instant, minute: Duration) -> f64 {
        if now < self.scaled {
            0.0
        } else {
            s.weight(now - self.scaled, minute).0
        }
    }
}

/// What ECS refuses in a CreateService/UpdateService `deploymentConfiguration` and
/// `loadBalancers` (InvalidParameterException), or None. (ECS API Reference:
/// "DeploymentConfiguration", "CanaryConfiguration", "LinearConfiguration",
/// "AdvancedConfiguration"; "DeploymentCircuitBreaker": only for rolling updates.)
pub fn refuse(config: &Value, load_balancers: &[Value]) -> Option<String> {
    let strategy = config["strategy"].as_str();
    if let Some(s) = strategy
        && !matches!(s, "ROLLING" | "BLUE_GREEN" | "LINEAR" | "CANARY")
    {
        return Some(format!("Invalid deployment strategy: {s}."));
    }
    let of = |k: &str| config.get(k).filter(|v| !v.is_null());
    let wrong_place = [
        ("canaryConfiguration", "CANARY"),
        ("linearConfiguration", "LINEAR"),
    ];
    for (k, needs) in wrong_place {
        if of(k).is_some() && strategy != Some(needs) {
            return Some(format!(
                "{k} is only valid with the {needs} deployment strategy."
            ));
        }
    }
    let in_range = |v: &Value, lo: f64, hi: f64, tenths: bool| {
        v.as_f64().is_some_and(|x| {
            x >= lo && x <= hi && (!tenths || ((x * 10.0).round() - x * 10.0).abs() < 1e-6)
        })
    };
    let checks = [
        (
            "bakeTimeInMinutes",
            config.get("bakeTimeInMinutes"),
            0.0,
            1440.0,
            false,
        ),
        (
            "canaryPercent",
            config.pointer("/canaryConfiguration/canaryPercent"),
            0.1,
            100.0,
            true,
        ),
        (
            "canaryBakeTimeInMinutes",
            config.pointer("/canaryConfiguration/canaryBakeTimeInMinutes"),
            0.0,
            1440.0,
            false,
        ),
        (
            "stepPercent",
            config.pointer("/linearConfiguration/stepPercent"),
            3.0,
            100.0,
            true,
        ),
        (
            "stepBakeTimeInMinutes",
            config.pointer("/linearConfiguration/stepBakeTimeInMinutes"),
            0.0,
            1440.0,
            false,
        ),
    ];
    for (name, v, lo, hi, tenths) in checks {
        if let Some(v) = v.filter(|v| !v.is_null())
            && !in_range(v, lo, hi, tenths)
        {
            return Some(format!("{name} {v} is out of range ({lo} to {hi})."));
        }
    }
    if matches!(strategy, None | Some("ROLLING")) {
        return None;
    }
    if strategy == Some("BLUE_GREEN") && of("bakeTimeInMinutes").is_none() {
        return Some(
            "bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.".into(),
        );
    }
    if config.pointer("/deploymentCircuitBreaker/enable") == Some(&Value::Bool(true)) {
        return Some(
            "The deployment circuit breaker can only be used with the ROLLING deployment strategy."
                .into(),
        );
    }
    for lb in load_balancers {
        let a = &lb["advancedConfiguration"];
        let has = |k: &str| a[k].as_str().is_some_and(|s| !s.is_empty());
        if !(has("alternateTargetGroupArn") && has("productionListenerRule") && has("roleArn")) {
            return Some("advancedConfiguration with alternateTargetGroupArn, productionListenerRule and roleArn is required for a load balancer with this deployment strategy.".into());
        }
        if a["alternateTargetGroupArn"] == lb["targetGroupArn"] {
            return Some("alternateTargetGroupArn must differ from targetGroupArn.".into());
        }
        // An ARN, not a role's name ("AdvancedConfiguration", ECS API Reference: roleArn).
        let role = a["roleArn"].as_str().unwrap_or_default();
        if !(role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/")) {
            return Some(format!("roleArn {role} is not a valid IAM role ARN."));
        }
    }
    None
}

#[cfg(test)]
#[path = "ecs_strategy_tests.rs"]
mod tests;
