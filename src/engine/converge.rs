//! Converging a stack: observe again, plan, apply the infrastructure, push the images, apply
//! the task definitions and services, watch each rollout until healthy.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::images::{self, Local};
use super::rollout::{self, Rollout};
use super::scan::{self, Gate};
use super::{EngineError, Progress, apply, observe};
use crate::aws::{self, Aws};
use crate::config::Stack;
use crate::cost::{Prices, estimate};
use crate::names::Names;
use crate::plan::{self, Action, Kind, Observed, Plan, State, desired::desired};

/// The stack's URL: its domain over HTTPS once the record points at the load balancer, else
/// the load balancer's own name over HTTP.
pub fn url_of(resources: &[Observed]) -> Option<String> {
    let domain = resources.iter().find_map(|o| match &o.state {
        State::DnsRecord(r) => Some(format!("https://{}/", r.domain)),
        _ => None,
    });
    domain.or_else(|| {
        resources.iter().find_map(|o| {
            let State::LoadBalancer(aws::load_balancer::State { dns_name, .. }) = &o.state else {
                return None;
            };
            (!dns_name.is_empty()).then(|| format!("http://{dns_name}/"))
        })
    })
}

/// Wait until ACM has issued the domain's certificate (made or still pending), showing how
/// long it has waited; the HTTPS listener cannot use it before.
async fn certificate_ready(
    aws: &Aws,
    stack: &Stack,
    seen: &observe::Observation,
    ids: &plan::Ids,
    progress: &Progress,
) -> Result<(), EngineError> {
    let (Some(d), Some(zone)) = (&stack.domain, &seen.facts.zone) else {
        return Ok(());
    };
    let key = plan::desired::certificate(&d.name);
    let issued = seen
        .resources
        .iter()
        .any(|o| o.key == key && matches!(&o.state, State::Certificate(c) if c.status == "ISSUED"));
    let (Some(arn), false) = (ids.get(&key), issued) else {
        return Ok(());
    };
    let task = progress.start(format!("wait for the certificate of {}", d.name));
    let timeout = Duration::from_secs(u64::from(d.wait_minutes) * 60);
    let ready =
        aws::certificate::wait_issued(aws, arn, &zone.id, timeout, |s| progress.update(&task, s))
            .await;
    match &ready {
        Ok(()) => progress.finish(task, "issued"),
        Err(e) => progress.finish(task, &format!("failed: {e}")),
    }
    Ok(ready?)
}

/// Wait until the stack's RDS instance serves, showing its status as RDS reports it.
async fn database_ready(
    aws: &Aws,
    stack: &Stack,
    progress: &Progress,
) -> Result<aws::db_instance::Connection, EngineError> {
    let names = stack.names();
    let task = progress.start(format!("wait for RDS instance {}", names.db_instance()));
    let ready = aws::db_instance::wait_ready(aws, &names, |s| progress.update(&task, s)).await;
    match &ready {
        Ok(c) => progress.finish(task, &format!("serving at {}:{}", c.host, c.port)),
        Err(e) => progress.finish(task, &format!("failed: {e}")),
    }
    Ok(ready?)
}

/// Under the lock. Observed again: another run may have changed the stack since the first
/// look. Infrastructure first; then images are pushed; then task definitions and services
/// change, and each service touched is watched until it is healthy.
/// `locals`: the images just built; `None` keeps the images deployed now (a token rotation).
/// `prices`: to show what the change costs (`None`: a change that costs nothing more).
/// `gate`: what ECR's scans of the pushed images may hold (`None`: nothing is pushed).
pub async fn converge(
    aws: &Aws,
    stack: &Stack,
    locals: Option<&BTreeMap<String, Local>>,
    prices: Option<&Prices>,
    gate: Option<Gate>,
    progress: &Progress,
    timeout: Duration,
) -> Result<Option<String>, EngineError> {
    let names = stack.names();
    let mut seen = observe(aws, stack).await?;
    seen.plannable()?;
    seen.facts.images = match locals {
        Some(locals) => images::references(stack, &seen.facts, locals),
        None => images::deployed(&seen.resources),
    };
    let mut want = desired(stack, &seen.facts);
    let plan = plan::plan(&want, &seen.resources);
    // `up` never deletes data: the database goes only with `down`, after a final snapshot.
    if let Some(c) = plan
        .changes
        .iter()
        .find(|c| c.kind == Kind::DbInstance && matches!(c.action, Action::Delete { .. }))
    {
        print!("{}", plan::render_text(&plan));
        return Err(EngineError::Blocked {
            what: format!("{} {}", c.kind.label(), c.name),
            reason: "stack.yaml has no `database:` (or another stack.yaml was given), and `up` never deletes a database: put the `database:` section back, or run `stackctl down`, which keeps a final snapshot".into(),
        });
    }
    if let Some(blocked) = plan.blocked().next() {
        print!("{}", plan::render_text(&plan));
        let Action::Blocked { reason } = &blocked.action else {
            unreachable!()
        };
        return Err(EngineError::Blocked {
            what: format!("{} {}", blocked.kind.label(), blocked.name),
            reason: reason.clone(),
        });
    }
    within_ci_role(&names, &seen.caller, &plan)?;
    progress.say(plan::render_text(&plan).trim_end());
    if let Some(prices) = prices.filter(|_| !plan.is_empty()) {
        let (now, after) = plan::cost::change(&aws.region, prices, &want, &seen.resources);
        progress.say(estimate::render_change(&now, &after, prices).trim_end());
    }
    let mut ids = plan::ids(&seen.resources);
    if plan.is_empty() {
        return Ok(url_of(&seen.resources));
    }
    let (first, mut second) = plan::split_deploys(&plan);
    if !first.is_empty() {
        ids = apply(aws, &names, &want, &seen.resources, &first, ids, progress).await?;
    }
    let registers = second
        .changes
        .iter()
        .any(|c| c.kind == Kind::TaskDefinition && !matches!(c.action, Action::Delete { .. }));
    let push = async {
        let mut pushed = Vec::new();
        if registers && let Some(locals) = locals {
            for (svc, local) in locals {
                let reference = images::push(aws, stack, svc, local, progress).await?;
                // Built here, so in the stack's repository, which scans on push.
                if matches!(local, Local::Built(_)) {
                    pushed.push((svc.clone(), reference));
                }
            }
        }
        Ok::<_, EngineError>(pushed)
    };
    // A new database and a new certificate take minutes: the images go up meanwhile. The
    // task definitions need the database's endpoint and secret, so they are planned again
    // once it serves; the HTTPS listener needs the certificate issued.
    let database = async {
        match stack.database.is_some() && seen.facts.database.is_none() {
            true => database_ready(aws, stack, progress).await.map(Some),
            false => Ok(None),
        }
    };
    let certificate = certificate_ready(aws, stack, &seen, &ids, progress);
    let (ready, issued, pushed) = tokio::join!(database, certificate, push);
    let pushed = pushed?;
    issued?;
    // `--fail-on`: the scans decide before any task definition changes.
    if let Some(g) = gate.filter(|g| g.fail_on.is_some() && !pushed.is_empty()) {
        let never = AtomicBool::new(false);
        scan::check(aws, stack, &pushed, g, &never, progress).await??;
    }
    if let Some(connection) = ready? {
        seen.facts.database = Some(connection);
        want = desired(stack, &seen.facts);
        second = plan::split_deploys(&plan::plan(&want, &seen.resources)).1;
    }
    let asked = rollout::since_now();
    ids = apply(aws, &names, &want, &seen.resources, &second, ids, progress).await?;
    progress.say(&format!("Applied {} changes.", plan.changes.len()));

    let rollouts: Vec<Rollout> = second
        .changes
        .iter()
        .filter(|c| c.kind == Kind::Service && !matches!(c.action, Action::Delete { .. }))
        .filter_map(|c| {
            let svc = c.key.name().to_string();
            let before = seen.resources.iter().find_map(|o| {
                let State::Service(s) = &o.state else {
                    return None;
                };
                (o.key == c.key).then(|| s.task_definition.clone())
            });
            Some(Rollout {
                arn: ids.get(&c.key)?.clone(),
                task_definition: ids.get(&plan::desired::task_definition(&svc))?.clone(),
                previous: before,
                target_groups: [
                    plan::desired::target_group(&svc),
                    plan::desired::alternate_target_group(&svc),
                ]
                .iter()
                .filter_map(|k| ids.get(k).cloned())
                .collect(),
                log_group: names.log_group(&svc),
                deploy: stack
                    .services
                    .get(&svc)
                    .filter(|s| s.public)
                    .map(|s| s.deploy)
                    .unwrap_or_default(),
                since: asked,
                service: svc,
            })
        })
        .collect();
    // Without `--fail-on` the scans are only told, while the services roll out: never
    // waited for once the rollouts are done.
    let rolled = AtomicBool::new(false);
    let told = async {
        let Some(g) = gate.filter(|g| g.fail_on.is_none() && !pushed.is_empty()) else {
            return;
        };
        if let Err(e) = scan::check(aws, stack, &pushed, g, &rolled, progress).await {
            progress.say(&format!(
                "warning: the images' scans could not be read: {e}"
            ));
        }
    };
    let watch = async {
        let results = futures::future::join_all(
            rollouts
                .iter()
                .map(|r| rollout::watch(aws, &names, r, timeout, progress)),
        )
        .await;
        rolled.store(true, Ordering::Relaxed);
        results
    };
    let (results, ()) = tokio::join!(watch, told);
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e.into());
    }
    if let Some(d) = &stack.domain {
        return Ok(Some(format!("https://{}/", d.name)));
    }
    let lb = ids.get(&plan::desired::load_balancer()).cloned();
    Ok(match lb {
        Some(arn) => crate::aws::load_balancer::dns_name(aws, &arn)
            .await?
            .map(|d| format!("http://{d}/")),
        None => None,
    })
}

/// Refuses, before any write, a plan the caller's CI role may not carry out: the plan role
/// changes nothing, the deploy role not who may deploy ([`plan::needs_administrator`]).
pub fn within_ci_role(names: &Names, caller: &str, plan: &Plan) -> Result<(), EngineError> {
    let Some(role) = names.ci_session(caller) else {
        return Ok(());
    };
    let refused: Vec<String> = match role {
        "plan" => plan.changes.iter().map(describe).collect(),
        _ => plan::needs_administrator(plan)
            .into_iter()
            .map(describe)
            .collect(),
    };
    if refused.is_empty() {
        return Ok(());
    }
    print!("{}", plan::render_text(plan));
    Err(EngineError::NeedsAdministrator {
        role,
        changes: refused,
    })
}

/// "update role ci-deploy", as the refusal lists a change.
fn describe(c: &plan::Change) -> String {
    let verb = match &c.action {
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::Delete { .. } => "delete",
        Action::Blocked { .. } => "replace",
    };
    format!("{verb} {} {}", c.kind.label(), c.name)
}
