//! A blue/green-family deployment of an emulated service (strategy and timeline in
//! `ecs_strategy`): which target group each deployment's tasks register in, the production
//! listener rule's weights ECS sets, and a rollback (StopServiceDeployment) that puts
//! production back on the old revision at once.
//!
//! The two target groups alternate: a deployment registers its tasks in the group production
//! is not on, then moves the weights to it (ECS Developer Guide, "Amazon ECS blue/green
//! service deployments workflow"). The first deployment of a service has nothing to shift
//! from: it goes to the alternate group and takes all the traffic once healthy, with no bake
//! (an assumption: the guide describes only a deployment that replaces a revision).

use crate::ecs::{Deployment, EcsService};
use crate::ecs_strategy::{Shape, Strategy, Timeline};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The traffic shift of one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub strategy: Strategy,
    pub timeline: Timeline,
    /// Production went back to the old revision at this moment.
    pub rolled_back: Option<Instant>,
    /// The production rule was checked to forward to both target groups (`ecs_weights`).
    pub checked: bool,
}

/// (target group, alternate target group, production listener rule) of a service whose load
/// balancer has `advancedConfiguration`.
pub fn groups(svc: &EcsService) -> Option<(String, String, String)> {
    let lb = svc.load_balancers.first()?;
    let a = &lb["advancedConfiguration"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    Some((
        s(&lb["targetGroupArn"])?,
        s(&a["alternateTargetGroupArn"])?,
        s(&a["productionListenerRule"])?,
    ))
}

/// The target group `d`'s tasks register in.
pub fn group_of(svc: &EcsService, d: &Deployment) -> Option<String> {
    d.group.clone().or_else(|| {
        svc.load_balancers
            .first()
            .and_then(|lb| lb["targetGroupArn"].as_str())
            .map(str::to_string)
    })
}

/// The group production is on at `now`: the one with the larger weight.
pub fn live(svc: &EcsService, now: Instant) -> Option<String> {
    let (_, w) = weights(svc, now)?;
    w.into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(g, _)| g)
}

/// For a new deployment of `svc` (before it is added), when its strategy shifts traffic: the
/// target group its tasks go to and its shift. The old deployments in the live group keep
/// their tasks until the bake time ends; any other (a deployment replaced before its shift)
/// drains at once.
pub fn begin(svc: &mut EcsService, now: Instant, rollout: Duration) -> Option<(String, Shift)> {
    let mut strategy = Strategy::of(&svc.deployment_config);
    let (primary, alternate, _) = groups(svc)?;
    if !strategy.shifts_traffic() {
        return None;
    }
    let live = live(svc, now);
    if live.is_none() || svc.deployments.iter().all(|d| d.failed.is_some()) {
        strategy = Strategy {
            shape: Shape::BlueGreen,
            bake: 0,
        };
    }
    let live = live.unwrap_or_else(|| primary.clone());
    let green = if live == primary { alternate } else { primary };
    let timeline = Timeline::new(&strategy, now, rollout, svc.minute);
    let half = rollout / 2;
    let in_live: Vec<bool> = svc
        .deployments
        .iter()
        .map(|d| group_of(svc, d).as_deref() == Some(live.as_str()))
        .collect();
    for (d, kept) in svc.deployments.iter_mut().zip(in_live) {
        if d.failed.is_none() {
            d.from = d.running(now, half);
            d.to = 0;
            d.since = if kept { timeline.baked } else { now };
        }
    }
    let shift = Shift {
        strategy,
        timeline,
        rolled_back: None,
        checked: false,
    };
    Some((green, shift))
}

/// When deployment `d` may complete: at once without a shift, after its bake time and the
/// old tasks' draining (`half`: half a rollout) with one; None once rolled back.
pub fn finished(d: &Deployment, half: Duration) -> Option<Instant> {
    match &d.shift {
        None => Some(d.created),
        Some(s) if s.rolled_back.is_some() => None,
        Some(s) => Some(s.timeline.baked + half),
    }
}

/// The production rule of `svc` and the weight of each of its target groups at `now`: what
/// ECS writes on the rule.
pub fn weights(svc: &EcsService, now: Instant) -> Option<(String, Vec<(String, f64)>)> {
    let (primary, alternate, rule) = groups(svc)?;
    if !Strategy::of(&svc.deployment_config).shifts_traffic()
        && svc.deployments.iter().all(|d| d.shift.is_none())
    {
        return None;
    }
    let p = svc.primary()?;
    let green = group_of(svc, p)?;
    let blue = if green == primary { alternate } else { primary };
    let w = match &p.shift {
        _ if p.failed.is_some() => 0.0,
        None => 100.0,
        Some(s) if s.rolled_back.is_some() => 0.0,
        Some(s) => s.timeline.weight(&s.strategy, now, svc.minute),
    };
    Some((rule, vec![(green, w), (blue, 100.0 - w)]))
}

/// ECS's `lifecycleStage` for deployment `d` at `now`, if it shifts traffic and is not over.
pub fn stage(d: &Deployment, now: Instant) -> Option<&'static str> {
    let s = d.shift.as_ref()?;
    (d.done.is_none() && d.failed.is_none() && s.rolled_back.is_none())
        .then(|| s.timeline.stage(now))
}

/// Rolls the primary deployment back, as StopServiceDeployment(ROLLBACK) does: production
/// returns to the previous deployment's tasks at once when they still run (a blue/green
/// family deployment before its bake time ended), else they start again; the new
/// deployment's tasks drain. The id of the deployment gone back to, and whether it is
/// complete already; None: nothing to roll back to.
pub fn roll_back(svc: &mut EcsService, now: Instant, half: Duration) -> Option<(String, bool)> {
    let desired = svc.desired;
    let i = svc.deployments.iter().position(|d| d.primary)?;
    let back = svc
        .deployments
        .iter()
        .position(|d| !d.primary && d.failed.is_none())?;
    let d = &mut svc.deployments[i];
    if let Some(s) = &mut d.shift {
        s.rolled_back = Some(now);
    }
    (d.primary, d.from, d.to, d.since) = (false, d.running(now, half), 0, now);
    let b = &mut svc.deployments[back];
    let running = b.running(now, half);
    let whole = running >= desired;
    (b.primary, b.from, b.to, b.since) = (true, running, desired, now);
    b.healthy_base = running;
    b.done = whole.then_some(now);
    Some((b.id.clone(), whole))
}
