//! The data plane front's routing: what it reads of the load balancer (the health of the
//! targets in each of a service's target groups, the weights the listener gives the groups)
//! and how it picks a container for a request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::dataplane::ControlPlane;
use super::lb::Where;

/// The targets' health (address → (its group's place, its state)) and each group's weight,
/// the groups as the listener names them. The weights are read again after the health: a
/// group's targets drain only once ECS has moved the weights off it, so these never send to
/// a group already drained. None: a read failed.
pub(super) async fn read(
    cp: &Arc<ControlPlane>,
    at: &Where,
) -> Option<(HashMap<String, (usize, String)>, Vec<i32>)> {
    let groups: Vec<String> = weights(cp, at).await?.into_iter().map(|(g, _)| g).collect();
    let state = health(cp, &groups).await?;
    let after = weights(cp, at).await?;
    let weights = groups
        .iter()
        .map(|g| after.iter().find(|(a, _)| a == g).map_or(0, |(_, w)| *w))
        .collect();
    Some((state, weights))
}

/// Target address → (its group's place in `groups`, its state); None: a read failed.
async fn health(
    cp: &Arc<ControlPlane>,
    groups: &[String],
) -> Option<HashMap<String, (usize, String)>> {
    let mut state = HashMap::new();
    for (i, group) in groups.iter().enumerate() {
        let health = cp
            .aws
            .elb
            .describe_target_health()
            .target_group_arn(group)
            .send()
            .await
            .ok()?;
        for d in health.target_health_descriptions() {
            let (Some(id), Some(s)) = (
                d.target().and_then(|t| t.id()),
                d.target_health().and_then(|h| h.state()),
            ) else {
                continue;
            };
            state.insert(id.to_string(), (i, s.as_str().to_string()));
        }
    }
    Some(state)
}

/// The target groups requests go to and the weight of each: the listener's default action
/// (as a load balancer does, whatever groups it names now), else `at.groups` alike. None: the
/// read failed.
async fn weights(cp: &Arc<ControlPlane>, at: &Where) -> Option<Vec<(String, i32)>> {
    let Some(listener) = &at.listener else {
        return Some(at.groups.iter().map(|g| (g.clone(), 1)).collect());
    };
    let out = cp
        .aws
        .elb
        .describe_listeners()
        .listener_arns(listener)
        .send()
        .await
        .ok()?;
    let actions = out.listeners().first()?.default_actions();
    let mut tuples: Vec<(String, i32)> = Vec::new();
    for a in actions {
        if let Some(f) = a.forward_config() {
            for t in f.target_groups() {
                tuples.push((t.target_group_arn()?.to_string(), t.weight().unwrap_or(1)));
            }
        } else if let Some(g) = a.target_group_arn() {
            tuples.push((g.to_string(), 1));
        }
    }
    Some(tuples)
}

/// The groups requests go to: (weight, the ports in service in it).
#[derive(Default, Clone, PartialEq, Debug)]
pub(super) struct Routing {
    pub(super) groups: Vec<(i32, Vec<u16>)>,
    /// Smooth weighted round robin's running scores, one per group.
    pub(super) scores: Vec<i64>,
    pub(super) next: usize,
}

/// A group by its weight (smooth weighted round robin), then the next of its containers in
/// service, round robin; None: the group has none.
pub(super) fn pick(routing: &Mutex<Routing>) -> Option<u16> {
    let mut r = routing.lock().unwrap();
    let total: i64 = r.groups.iter().map(|(w, _)| i64::from(*w)).sum();
    if total <= 0 {
        return None;
    }
    let Routing {
        groups,
        scores,
        next,
    } = &mut *r;
    for (score, (w, _)) in scores.iter_mut().zip(groups.iter()) {
        *score += i64::from(*w);
    }
    let g = (0..groups.len()).max_by_key(|i| (scores[*i], std::cmp::Reverse(*i)))?;
    scores[g] -= total;
    let ports = &groups[g].1;
    *next += 1;
    (!ports.is_empty()).then(|| ports[*next % ports.len()])
}
