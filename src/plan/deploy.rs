//! Task definitions and services: what differs, and which services a plan must roll. Pure.

use super::diff::Ids;
use super::resource::Fix;
use super::resource::{Desired, Kind, ServiceSpec, ServiceState, Spec, TaskDef};
use super::{Action, Change, Plan};
use crate::aws::service::Fix as ServiceFix;

/// The fields of a task definition that differ (empty: registering again changes nothing).
/// An image or health probe not known yet (plan before build) counts as unchanged.
pub fn task_def_changes(want: &TaskDef, have: &TaskDef) -> Vec<String> {
    let mut want = want.clone();
    if want.image.is_none() {
        want.image = have.image.clone();
    }
    if want.health_command.is_none() {
        want.health_command = have.health_command.clone();
    }
    let mut changed = Vec::new();
    let mut check = |what: &str, differs: bool| {
        if differs {
            changed.push(what.to_string());
        }
    };
    check("image", want.image != have.image);
    check(
        "cpu/memory",
        (want.cpu, want.memory) != (have.cpu, have.memory),
    );
    check(
        "roles",
        (&want.execution_role, &want.task_role) != (&have.execution_role, &have.task_role),
    );
    check("port", want.port != have.port);
    check("environment", want.environment != have.environment);
    check("token", want.secrets != have.secrets);
    check(
        "logs",
        (&want.log_group, &want.log_region) != (&have.log_group, &have.log_region),
    );
    check("health check", want.health_command != have.health_command);
    check(
        "container settings",
        (
            &want.stop_timeout,
            &want.user,
            want.read_only_root,
            &want.volumes,
        ) != (
            &have.stop_timeout,
            &have.user,
            have.read_only_root,
            &have.volumes,
        ),
    );
    changed
}

/// The settings of a service that differ from what it should be. The task definition is
/// compared by ARN: the latest revision of the family must be the one deployed.
pub fn service_changes(want: &ServiceSpec, have: &ServiceState, ids: &Ids) -> Vec<String> {
    let id = |k| ids.get(k).cloned().unwrap_or_default();
    let mut changed = Vec::new();
    if ids.get(&want.task_definition) != Some(&have.task_definition) {
        changed.push("task definition".to_string());
    }
    if !want.scaled && want.desired != have.desired {
        changed.push(format!("desired {} → {}", have.desired, want.desired));
    }
    let mut subnets: Vec<String> = want.subnets.iter().map(id).collect();
    subnets.sort();
    let mut have_subnets = have.subnets.clone();
    have_subnets.sort();
    if subnets != have_subnets
        || have.security_groups != [id(&want.security_group)]
        || !have.public_ip
    {
        changed.push("network".into());
    }
    let target = want.target_group.as_ref().map(|(tg, _)| id(tg));
    let groups = if want.deploy.shifts_traffic() {
        super::strategy::pair_matches(want, have, ids)
    } else {
        target == have.target_group && have.advanced.is_none()
    };
    if !groups
        || (target.is_some()
            && (have.container.as_deref() != Some(&want.container) || have.port != Some(want.port)))
    {
        changed.push("load balancer".into());
    }
    if want.registry.as_ref().map(id) != have.registry {
        changed.push("service discovery".into());
    }
    if target.is_some() && have.grace_seconds != want.grace_seconds {
        changed.push("grace period".into());
    }
    if let Some(switch) = super::strategy::switch(want, have) {
        changed.push(switch);
    } else if want.deploy.shifts_traffic() {
        changed.extend(super::strategy::setting_changes(want, have));
    } else if (have.min_percent, have.max_percent) != (MIN_PERCENT, MAX_PERCENT)
        || !have.circuit_breaker
        || !have.rollback
    {
        changed.push("rolling update settings".into());
    }
    changed
}

/// Rolling updates: never below the desired count, up to twice as many while rolling.
pub const MIN_PERCENT: i32 = 100;
pub const MAX_PERCENT: i32 = 200;

/// A service whose task definition gets a new revision in this plan must be deployed, even
/// if it runs the family's latest revision now.
pub fn mark_deploys(plan: &mut Plan, desired: &[Desired]) {
    let new_revisions: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind == Kind::TaskDefinition && !matches!(c.action, Action::Delete { .. }))
        .map(|c| c.key.clone())
        .collect();
    for d in desired {
        let Spec::Service(s) = &d.spec else { continue };
        if !new_revisions.contains(&s.task_definition) {
            continue;
        }
        match plan.changes.iter_mut().find(|c| c.key == d.key) {
            Some(Change {
                action: Action::Update { fixes },
                ..
            }) => {
                for f in fixes.iter_mut() {
                    if let Fix::Service(ServiceFix::UpdateService { changed }) = f
                        && !changed.iter().any(|c| c == "task definition")
                    {
                        changed.insert(0, "task definition".into());
                    }
                }
            }
            Some(_) => {}
            None => {
                plan.unchanged = plan.unchanged.saturating_sub(1);
                plan.changes.push(Change {
                    key: d.key.clone(),
                    kind: Kind::Service,
                    name: d.name.clone(),
                    action: Action::Update {
                        fixes: vec![Fix::Service(ServiceFix::UpdateService {
                            changed: vec!["task definition".into()],
                        })],
                    },
                });
            }
        }
    }
}
