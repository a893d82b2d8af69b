//! Going back: the revisions a service can return to (its deployment history, which ECS
//! keeps, each healthy revision checked against what exists now: still registered, on the
//! service's port, accepting the token clients use), and the rollback itself, watched as a
//! deploy is. The choosing is pure, in `plan::rollback`.

use std::time::Duration;

use super::progress::Progress;
use super::rollout::{self, Rollout, RolloutError};
use crate::aws::{self, Aws, AwsError};
use crate::names::Names;
use crate::plan::rollback::{self as decide, Candidate, revision_of};
use crate::plan::{Observed, State};

/// How many of the latest healthy revisions are checked and shown.
pub const SHOWN: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("service `{0}` is not deployed")]
    NotDeployed(String),
    /// Refused before anything changed.
    #[error("cannot roll back {service}: {why}")]
    Refused {
        service: String,
        why: String,
        hint: String,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Rollout(#[from] RolloutError),
}

/// What the service runs now, as `rollback` needs it.
pub struct Running {
    pub arn: String,
    pub task_definition: String,
    pub port: Option<i32>,
    pub target_group: Option<String>,
    /// Its target groups (two under a blue/green, canary or linear strategy).
    pub target_groups: Vec<String>,
    /// The strategy ECS deploys it with.
    pub deploy: crate::config::Deploy,
    /// The revision a deployment in progress replaces, while its tasks all still run (a
    /// blue/green, canary or linear deployment before its bake time ends).
    pub kept: Option<String>,
    /// One deployment, COMPLETED.
    pub steady: bool,
}

/// The stack's ECS service `service`, if it exists.
pub async fn running(aws: &Aws, names: &Names, service: &str) -> Result<Option<Running>, AwsError> {
    let found = aws::service::describe(aws, names, &[names.ecs_service(service)]).await?;
    Ok(found.first().and_then(running_of))
}

/// An observed ECS service as `rollback` needs it.
pub fn running_of(o: &Observed) -> Option<Running> {
    let State::Service(s) = &o.state else {
        return None;
    };
    Some(Running {
        arn: o.id.clone(),
        steady: s.deployments.len() <= 1 && s.deployments.iter().all(|d| d.rollout == "COMPLETED"),
        task_definition: s.task_definition.clone(),
        port: s.port,
        target_group: s.target_group.clone(),
        target_groups: s
            .target_group
            .iter()
            .chain(s.advanced.iter().map(|a| &a.0))
            .cloned()
            .collect(),
        deploy: crate::plan::observed_deploy(s),
        kept: s
            .deployments
            .iter()
            .find(|d| d.status == "ACTIVE" && d.desired > 0 && d.running >= d.desired)
            .map(|d| d.task_definition.clone()),
    })
}

/// The first [`SHOWN`] of `all` (`plan::rollback::candidates`), each with why it cannot
/// be used (`existing`: the service's token generations).
pub async fn checked(
    aws: &Aws,
    names: &Names,
    service: &str,
    now: &Running,
    all: &[Candidate],
    existing: &[u32],
) -> Result<Vec<Candidate>, AwsError> {
    let mut found: Vec<Candidate> = all.iter().take(SHOWN).cloned().collect();
    for c in &mut found {
        c.blocked = usable(aws, names, service, now, &c.task_definition, existing)
            .await?
            .err();
    }
    Ok(found)
}

/// Whether the service may run revision `reference` now: Ok(its ARN) or Err(why not).
pub async fn usable(
    aws: &Aws,
    names: &Names,
    service: &str,
    now: &Running,
    reference: &str,
    existing: &[u32],
) -> Result<Result<String, String>, AwsError> {
    Ok(
        match aws::task_definition::revision(aws, reference).await? {
            None => Err("ECS has no such revision".into()),
            Some((_, _, false)) => Err("it was deregistered".into()),
            // The load balancer sends to the service's container port, which the revision's
            // container must listen on.
            Some((_, def, true)) if now.port.is_some_and(|p| p != i32::from(def.port)) => {
                Err(format!(
                    "its container listens on port {}, the service's load balancer sends to {}",
                    def.port,
                    now.port.unwrap_or_default()
                ))
            }
            Some((arn, def, true)) => {
                decide::token_fit(names, service, &def.secrets, existing).map(|()| arn)
            }
        },
    )
}

/// The token generations of `service` among `parameters` (empty: it has no token).
pub fn generations_of(names: &Names, service: &str, parameters: &[Observed]) -> Vec<u32> {
    aws::ssm::generation_numbers(names, parameters)
        .remove(service)
        .unwrap_or_default()
}

/// The revisions the service can go back to, for a hint.
fn usable_list(candidates: &[Candidate]) -> String {
    let ok: Vec<String> = candidates
        .iter()
        .filter(|c| c.blocked.is_none())
        .map(|c| c.revision.to_string())
        .collect();
    match (candidates.is_empty(), ok.is_empty()) {
        (true, _) => {
            "name a revision with `--to N` (`stackctl status` lists the ones ECS recorded)".into()
        }
        (false, true) => {
            "no revision ECS recorded can serve now: fix the release and run `stackctl up`".into()
        }
        (false, false) => format!(
            "revisions it can go to: {} (`--to N`; `stackctl status` lists the last {SHOWN} healthy ones)",
            ok.join(", ")
        ),
    }
}

/// Puts `service` on `to` (or its previous healthy revision) and watches the rollout: a
/// failure returns it to where it was (or, mid-deployment, to the newest healthy revision).
/// (from, to) revision numbers.
pub async fn roll_back(
    aws: &Aws,
    names: &Names,
    service: &str,
    to: Option<i32>,
    timeout: Duration,
    progress: &Progress,
) -> Result<(i32, i32), RollbackError> {
    let Some(now) = running(aws, names, service).await? else {
        return Err(RollbackError::NotDeployed(service.into()));
    };
    let from = revision_of(&now.task_definition).unwrap_or_default();
    let existing = generations_of(names, service, &aws::ssm::find(aws, names).await?);
    // With `--to`, the history only makes the hint: a failure to read it does not stop it.
    let history = match aws::service_deployment::history(aws, names, &now.arn).await {
        Ok(h) => h,
        Err(e) if to.is_some() => {
            progress.say(&format!("warning: {e} (going on: the revision is named)"));
            vec![]
        }
        Err(e) => return Err(e.into()),
    };
    let all = decide::candidates(&history, &now.task_definition);
    let shown = checked(aws, names, service, &now, &all, &existing).await?;
    let refused = |why: String| RollbackError::Refused {
        service: service.into(),
        why,
        hint: usable_list(&shown),
    };
    let n = decide::choose(&all, from, to).map_err(refused)?;
    // The candidates shown were checked already; another revision is checked here.
    let target = match shown.iter().find(|c| c.revision == n) {
        Some(c) => c.blocked.clone().map_or(Ok(c.task_definition.clone()), Err),
        None => {
            let family = names.task_family(service);
            usable(
                aws,
                names,
                service,
                &now,
                &format!("{family}:{n}"),
                &existing,
            )
            .await?
        }
    }
    .map_err(|why| refused(format!("revision {n}: {why}")))?;
    let known = all.iter().any(|c| c.revision == n);
    let direction = if n < from { "back" } else { "forward" };
    progress.say(&format!(
        "rolling {service} {direction} from revision {from} to {n}{}",
        if known {
            " (it ran healthy before; the current one stays registered)"
        } else {
            " (named with --to: ECS has no record of it running healthy)"
        }
    ));
    // Where a failure returns it: a revision that can still serve, never the target.
    let mut previous = None;
    for td in decide::fallbacks(&all, &now.task_definition, &target, now.steady) {
        if now.steady {
            previous = Some(td);
            break;
        }
        let fits = match shown.iter().find(|c| c.task_definition == td) {
            Some(c) => c.blocked.is_none().then_some(td),
            None => usable(aws, names, service, &now, &td, &existing)
                .await?
                .ok(),
        };
        if fits.is_some() {
            previous = fits;
            break;
        }
    }
    // Its tasks still run: stopping the deployment puts the requests back on them at once.
    let mut deploy = now.deploy;
    let since = rollout::since_now();
    if now.deploy.shifts_traffic() && now.kept.as_deref() == Some(target.as_str()) {
        let day = crate::clock::now_secs() as f64 - 24.0 * 3600.0;
        match aws::service_deployment::newest(aws, names, &now.arn, day).await? {
            Some(c) if matches!(c.status.as_str(), "PENDING" | "IN_PROGRESS") => {
                progress.say(
                    "its tasks still run: stopping the deployment moves the requests back at once",
                );
                aws::service_deployment::stop(aws, &c.arn).await?;
                // No new deployment to follow: the old one is the service's again.
                deploy = crate::config::Deploy::Rolling;
            }
            _ => aws::service::roll_back(aws, names, &now.arn, &target).await?,
        }
    } else {
        aws::service::roll_back(aws, names, &now.arn, &target).await?;
    }
    let watched = Rollout {
        service: service.to_string(),
        arn: now.arn.clone(),
        task_definition: target,
        previous,
        target_groups: now.target_groups.clone(),
        log_group: names.log_group(service),
        deploy,
        since,
    };
    rollout::watch(aws, names, &watched, timeout, progress).await?;
    Ok((from, n))
}
