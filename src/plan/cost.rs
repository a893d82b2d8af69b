//! The stack's monthly cost, now (what AWS reports) and after the change (what the stack
//! declares): each resource kind says what it is billed for, `cost` prices it.

use std::collections::HashMap;

use crate::cost::{self, Assumptions, Estimate, Inputs, Prices, Usage};

use super::{Desired, Key, Kind, Observed, Spec, State};

type Uses = Vec<(&'static str, String, Usage)>;

/// What the declared resources are billed for; `observed`: what exists (autoscaled services
/// keep the count they run).
pub fn after(desired: &[Desired], observed: &[Observed], assumptions: Assumptions) -> Uses {
    let counts: HashMap<&str, i32> = observed
        .iter()
        .filter_map(|o| match &o.state {
            State::Service(s) => Some((o.key.0.as_str(), s.desired)),
            _ => None,
        })
        .collect();
    let running = |k: &str| counts.get(k).copied();
    let mut desired: Vec<&Desired> = desired.iter().collect();
    desired.sort_by_key(|d| d.spec.kind());
    let sizes: HashMap<&str, (u32, u32)> = desired
        .iter()
        .copied()
        .filter_map(|d| match &d.spec {
            Spec::TaskDefinition(t) => Some((d.key.0.as_str(), (t.def.cpu, t.def.memory))),
            _ => None,
        })
        .collect();
    let task_size = |k: &str| sizes.get(k).copied();
    let inputs = Inputs {
        assumptions,
        task_size: &task_size,
        running: &running,
    };
    desired
        .iter()
        .flat_map(|d| rows(d.spec.kind(), &d.key, d.spec.usage(&d.key, &inputs)))
        .collect()
}

/// Each use of a resource, with its kind's label and its key.
fn rows(kind: Kind, key: &Key, uses: Vec<Usage>) -> Uses {
    let label = kind.label();
    uses.into_iter()
        .map(|u| (label, key.0.clone(), u))
        .collect()
}

/// What the resources AWS reports are billed for.
pub fn now(observed: &[Observed], assumptions: Assumptions) -> Uses {
    let mut observed: Vec<&Observed> = observed.iter().collect();
    observed.sort_by_key(|o| o.state.kind());
    let mut sizes: HashMap<&str, (u32, u32)> = HashMap::new();
    for o in &observed {
        if let State::TaskDefinition(t) = &o.state {
            sizes.insert(o.key.0.as_str(), (t.def.cpu, t.def.memory));
            sizes.insert(o.id.as_str(), (t.def.cpu, t.def.memory));
        }
    }
    let task_size = |k: &str| sizes.get(k).copied();
    let inputs = Inputs {
        assumptions,
        task_size: &task_size,
        running: &|_| None,
    };
    observed
        .iter()
        .flat_map(|o| rows(o.state.kind(), &o.key, o.state.usage(&o.key, &inputs)))
        .collect()
}

/// The estimate now and after the change, in `region`, on the default assumptions (what
/// `plan` and `up` show; `stackctl cost` takes others).
pub fn change(
    region: &str,
    prices: &Prices,
    desired: &[Desired],
    observed: &[Observed],
) -> (Estimate, Estimate) {
    let assumptions = Assumptions::default();
    (
        cost::estimate::estimate(region, prices, now(observed, assumptions), &assumptions),
        cost::estimate::estimate(
            region,
            prices,
            after(desired, observed, assumptions),
            &assumptions,
        ),
    )
}
