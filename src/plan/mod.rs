//! The planner: desired × observed → changes, ordered as a dependency graph. No I/O.

mod access;
pub mod cost;
mod deploy;
pub mod desired;
mod diff;
mod ecs;
mod render;
pub mod resource;
pub mod rollback;
mod strategy;
pub mod task_def;
pub mod zones;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

pub use deploy::{MAX_PERCENT, MIN_PERCENT, service_changes, task_def_changes};
pub use desired::{Facts, Generations, Image};
pub use diff::Ids;
pub use resource::{
    Deployment, Desired, Fix, HealthCheck, Key, Kind, Observed, Peer, Rule, ServiceSpec,
    ServiceState, Spec, State, TaskDef,
};
pub use strategy::{bake_minutes, ecs_strategy, live_groups, observed_deploy, rule_prefix, steps};

// A plan holds a few dozen changes: boxing the spec would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Create {
        spec: Spec,
    },
    Update {
        fixes: Vec<Fix>,
    },
    /// An immutable property differs; stackctl will not destroy data to fix it.
    Blocked {
        reason: String,
    },
    Delete {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub key: Key,
    pub kind: Kind,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
    pub fn count(&self, f: impl Fn(&Action) -> bool) -> usize {
        self.changes.iter().filter(|c| f(&c.action)).count()
    }
    pub fn blocked(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Blocked { .. }))
    }
}

pub use access::needs_administrator;

/// Ids of every observed resource by key (the first one where duplicates exist).
pub fn ids(observed: &[Observed]) -> Ids {
    let mut ids = Ids::new();
    for o in observed {
        ids.entry(o.key.clone()).or_insert_with(|| o.id.clone());
    }
    ids
}

/// Compare. Observed resources with no desired counterpart, and duplicates of one key
/// (left by an interrupted run elsewhere), are deleted, unless the account shares them.
pub fn plan(desired: &[Desired], observed: &[Observed]) -> Plan {
    let ids = ids(observed);
    let mut plan = Plan::default();
    let mut seen = BTreeSet::new();
    for want in desired {
        let have = observed.iter().find(|o| o.key == want.key);
        let action = match have {
            None => Some(Action::Create {
                spec: want.spec.clone(),
            }),
            Some(have) => match diff::diff(want, have, &ids) {
                Ok(fixes) if fixes.is_empty() => None,
                Ok(fixes) => Some(Action::Update { fixes }),
                Err(reason) => Some(Action::Blocked { reason }),
            },
        };
        match action {
            Some(action) => plan.changes.push(Change {
                key: want.key.clone(),
                kind: want.spec.kind(),
                name: want.name.clone(),
                action,
            }),
            None => plan.unchanged += 1,
        }
        seen.insert(want.key.clone());
    }
    let mut first = BTreeSet::new();
    for have in observed {
        let duplicate = !first.insert(have.key.clone());
        // What the account shares (a service-linked role) is never the stack's to delete.
        if have.state.shared() {
            continue;
        }
        if duplicate || !seen.contains(&have.key) {
            plan.changes.push(Change {
                key: have.key.clone(),
                kind: have.state.kind(),
                name: have.name.clone(),
                action: Action::Delete {
                    id: have.id.clone(),
                },
            });
        }
    }
    deploy::mark_deploys(&mut plan, desired);
    plan
}

/// For each change (by index), the indices of the changes that must finish first.
/// Creates and updates follow resource dependencies; deletes run after them, in reverse
/// dependency order (AWS refuses to delete what something still uses).
pub fn order(plan: &Plan, desired: &[Desired]) -> Vec<Vec<usize>> {
    let index: HashMap<&Key, usize> = plan
        .changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !is_delete(c))
        .map(|(i, c)| (&c.key, i))
        .collect();
    let forward: Vec<usize> = (0..plan.changes.len())
        .filter(|i| !is_delete(&plan.changes[*i]))
        .collect();
    plan.changes
        .iter()
        .map(|c| {
            if is_delete(c) {
                let mut deps: Vec<usize> = forward.clone();
                deps.extend(
                    plan.changes
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| {
                            is_delete(o) && o.kind.delete_before(&o.key, c.kind, &c.key)
                        })
                        .map(|(i, _)| i),
                );
                deps
            } else {
                let want = desired.iter().find(|d| d.key == c.key);
                want.map(|d| d.deps())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|k| index.get(k).copied())
                    .collect()
            }
        })
        .collect()
}

/// `up`'s two phases: the infrastructure first, then (once the images are pushed and the
/// certificate issued) the listeners, the domain's record, the task definitions, the
/// services, their autoscaling and every delete.
pub fn split_deploys(plan: &Plan) -> (Plan, Plan) {
    let deploys = |c: &Change| {
        matches!(
            c.kind,
            Kind::Listener
                | Kind::Routes
                | Kind::DnsRecord
                | Kind::TaskDefinition
                | Kind::Service
                | Kind::Scaling
        ) || is_delete(c)
    };
    let (second, first): (Vec<_>, Vec<_>) = plan.changes.iter().cloned().partition(deploys);
    let phase = |changes| Plan {
        changes,
        unchanged: 0,
    };
    (phase(first), phase(second))
}

fn is_delete(c: &Change) -> bool {
    matches!(c.action, Action::Delete { .. })
}

pub use render::{render_json, render_text};

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ci;
#[cfg(test)]
mod tests_cost;
#[cfg(test)]
mod tests_database;
#[cfg(test)]
mod tests_deploy;
#[cfg(test)]
mod tests_domain;
#[cfg(test)]
mod tests_order;
#[cfg(test)]
mod tests_routes;
#[cfg(test)]
mod tests_scaling;
#[cfg(test)]
mod tests_strategy;
