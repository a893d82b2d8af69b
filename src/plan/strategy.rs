//! ECS's own deployment strategies on a service (`deploy:` blue-green, canary, linear): what
//! ECS is told, what differs from what it reports, and which of a service's two target groups
//! production is on. Pure.
//!
//! ECS puts each new version in the group production is not on and moves the weights of the
//! production rule (ECS Developer Guide, "Amazon ECS blue/green service deployments
//! workflow"), so which group is which alternates: the pair counts, never its order, and the
//! weights are ECS's.

use std::collections::BTreeMap;

use super::diff::Ids;
use super::resource::{Key, Kind, Observed, ServiceSpec, ServiceState, State};
use crate::config::Deploy;

/// `deploymentConfiguration.strategy` for `d` (ECS API Reference, "DeploymentConfiguration").
pub fn ecs_strategy(d: &Deploy) -> &'static str {
    match d {
        Deploy::Rolling => "ROLLING",
        Deploy::BlueGreen { .. } => "BLUE_GREEN",
        Deploy::Canary { .. } => "CANARY",
        Deploy::Linear { .. } => "LINEAR",
    }
}

/// The name in stack.yaml of a strategy ECS reports (empty: its default, ROLLING).
fn name_of(ecs: &str) -> &str {
    match ecs {
        "BLUE_GREEN" => "blue-green",
        "CANARY" => "canary",
        "LINEAR" => "linear",
        "" | "ROLLING" => "rolling",
        other => other,
    }
}

/// The bake time ECS is told.
pub fn bake_minutes(d: &Deploy) -> Option<i32> {
    match *d {
        Deploy::Rolling => None,
        Deploy::BlueGreen { bake_minutes }
        | Deploy::Canary { bake_minutes, .. }
        | Deploy::Linear { bake_minutes, .. } => Some(bake_minutes as i32),
    }
}

/// The canary's (percent, minutes before the rest), or the linear steps' (percent each,
/// minutes between).
pub fn steps(d: &Deploy) -> Option<(f64, i32)> {
    match *d {
        Deploy::Canary {
            percent,
            wait_minutes,
            ..
        }
        | Deploy::Linear {
            percent,
            wait_minutes,
            ..
        } => Some((percent, wait_minutes as i32)),
        _ => None,
    }
}

/// The strategy a service reports, as stack.yaml would name it (numbers ECS left out: 0).
pub fn observed_deploy(have: &ServiceState) -> Deploy {
    let bake_minutes = have.bake_minutes.unwrap_or(0).max(0) as u32;
    let (percent, wait_minutes) = have.steps.map_or((0.0, 0), |(p, m)| (p, m.max(0) as u32));
    match have.strategy.as_str() {
        "BLUE_GREEN" => Deploy::BlueGreen { bake_minutes },
        "CANARY" => Deploy::Canary {
            percent,
            wait_minutes,
            bake_minutes,
        },
        "LINEAR" if percent > 0.0 => Deploy::Linear {
            percent,
            wait_minutes,
            bake_minutes,
        },
        _ => Deploy::Rolling,
    }
}

/// What the ARNs of a listener's rules begin with (ELB: `listener-rule/app/<lb>/<id>/<id>/`).
pub fn rule_prefix(listener_arn: &str) -> String {
    format!(
        "{}/",
        listener_arn.replacen(":listener/", ":listener-rule/", 1)
    )
}

/// Whether the service's load balancer is the pair `want` names, in either order, with the
/// role ECS changes the rule with and a production rule on the listener that forwards to the
/// service now (a domain added moves it to the HTTPS listener).
pub fn pair_matches(want: &ServiceSpec, have: &ServiceState, ids: &Ids) -> bool {
    let (Some((tg, listener)), Some(alternate), Some((a, rule, role))) =
        (&want.target_group, &want.alternate, &have.advanced)
    else {
        return false;
    };
    if !ids
        .get(listener)
        .is_some_and(|l| rule.starts_with(&rule_prefix(l)))
    {
        return false;
    }
    let mut w = [ids.get(tg), ids.get(alternate)];
    w.sort();
    let mut h = [have.target_group.as_ref(), Some(a)];
    h.sort();
    let role_ok = want.infrastructure_role.as_ref().map(|r| &r.1) == Some(role);
    !w.contains(&None) && w == h && role_ok
}

/// A change of strategy, explained; None: the same strategy.
pub fn switch(want: &ServiceSpec, have: &ServiceState) -> Option<String> {
    let (from, to) = (name_of(&have.strategy), want.deploy.name());
    (from != to).then(|| {
        let how = if want.deploy.shifts_traffic() {
            "the next version starts beside the running one, then ECS moves the load balancer's requests to it"
        } else {
            "new tasks replace the old ones a few at a time"
        };
        format!("deploy strategy {from} → {to} ({how})")
    })
}

/// The strategy's numbers that differ from what ECS reports.
pub fn setting_changes(want: &ServiceSpec, have: &ServiceState) -> Vec<String> {
    let mut changed = Vec::new();
    let bake = bake_minutes(&want.deploy);
    if bake != have.bake_minutes {
        changed.push(format!(
            "bake time {} → {} min",
            have.bake_minutes.map_or("none".into(), |m| m.to_string()),
            bake.unwrap_or_default()
        ));
    }
    let steps = steps(&want.deploy);
    let close = |a: Option<(f64, i32)>, b: Option<(f64, i32)>| match (a, b) {
        (Some((p, m)), Some((q, n))) => (p - q).abs() < 1e-6 && m == n,
        (a, b) => a.is_none() && b.is_none(),
    };
    if let Some((percent, minutes)) = steps.filter(|_| !close(steps, have.steps)) {
        changed.push(format!(
            "{} {percent}% every {minutes} min",
            want.deploy.name()
        ));
    }
    changed
}

/// For each service that has two target groups, the key of the one production is on: the
/// one its listener rule (or the listener's default action) gives the most weight.
pub fn live_groups(resources: &[Observed]) -> BTreeMap<String, Key> {
    let id_of = |k: &Key| resources.iter().find(|o| &o.key == k).map(|o| o.id.clone());
    let mut forwards: Vec<&[(String, i32)]> = Vec::new();
    for o in resources {
        match &o.state {
            State::Listener(l) => forwards.push(&l.forwards),
            State::Routes(r) => forwards.extend(r.rules.iter().map(|x| x.forwards.as_slice())),
            _ => {}
        }
    }
    let mut live = BTreeMap::new();
    for o in resources
        .iter()
        .filter(|o| o.key.kind() == Some(Kind::TargetGroup))
    {
        let Some(service) = o.key.name().strip_suffix("/alternate") else {
            continue;
        };
        let primary = super::desired::target_group(service);
        let weight = |id: &Option<String>, f: &[(String, i32)]| {
            f.iter()
                .find(|(g, _)| Some(g) == id.as_ref())
                .map(|(_, w)| *w)
        };
        let (p, a) = (id_of(&primary), Some(o.id.clone()));
        let rule = forwards
            .iter()
            .find(|f| weight(&p, f).is_some() || weight(&a, f).is_some());
        let on_alternate = rule
            .is_some_and(|f| weight(&a, f).unwrap_or(0) > weight(&p, f).unwrap_or(0))
            || p.is_none();
        let key = if on_alternate { o.key.clone() } else { primary };
        live.insert(service.to_string(), key);
    }
    live
}
