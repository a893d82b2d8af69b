//! The rollout watcher: a deploy is done when the service's PRIMARY deployment runs the
//! revision we registered, ECS calls it COMPLETED with every task running, and the load
//! balancer sees the targets healthy. Never waits forever: stopped tasks fail it fast, a
//! circuit-breaker rollback is a failure, and a client-side deadline bounds it all. A
//! blue/green, canary or linear deployment also shows its stage, gets its own minutes on top
//! of the deadline, and is rolled back by stopping it (production goes back at once while the
//! old tasks still run, until the bake time ends).

use std::time::{Duration, Instant};

use super::progress::Progress;
use crate::aws::{self, Aws, AwsError, retry::Backoff, task::Stopped};
use crate::config::Deploy;
use crate::names::Names;
use crate::plan::{ServiceState, State};

/// What to watch.
pub struct Rollout {
    /// Logical service name (`api`) and its ECS ARN.
    pub service: String,
    pub arn: String,
    /// The revision this deploy must end on, and the one to return to if it fails.
    pub task_definition: String,
    pub previous: Option<String>,
    /// Its target groups: with two, the new tasks go to either.
    pub target_groups: Vec<String>,
    pub log_group: String,
    pub deploy: Deploy,
    /// When the deployment was asked for (seconds since the epoch, a few early for clock
    /// skew): what ECS records from then on is this deploy's.
    pub since: f64,
}

/// Now, as [`Rollout::since`] wants it: a few seconds early for the clocks' skew.
pub fn since_now() -> f64 {
    crate::clock::now_secs() as f64 - 5.0
}

/// Stopped tasks of the new revision after which we stop waiting for ECS's verdict.
const FAIL_FAST_STOPPED: usize = 3;
const LOG_LINES: i32 = 20;

#[derive(Debug, thiserror::Error)]
#[error("rollout of {service} failed: {why}")]
pub struct RolloutError {
    pub service: String,
    pub why: String,
    /// Stopped tasks' reasons, and the failed container's last log lines.
    pub details: Vec<String>,
    pub hint: String,
}

pub async fn watch(
    aws: &Aws,
    names: &Names,
    r: &Rollout,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), RolloutError> {
    let started = Instant::now();
    let timeout = timeout + Duration::from_secs(60 * u64::from(r.deploy.minutes()));
    let since = r.since;
    let poll = Duration::from_secs(3).mul_f64(Backoff::scaled());
    let task = progress.start(format!("roll out {}", r.service));
    let mut last = String::new();
    let mut ours_seen = false;
    let outcome = loop {
        match step(aws, names, r, since, &mut ours_seen).await {
            Ok(Step::Done(summary)) => break Ok(summary),
            Ok(Step::Failed(why, stopped)) => break Err((why, stopped)),
            Ok(Step::Waiting(status)) => {
                if status != last {
                    progress.update(&task, &status);
                    last = status;
                }
            }
            // A failed read is not a failed rollout: try again until the deadline.
            Err(e) => progress.update(&task, &format!("(retrying: {e})")),
        }
        if started.elapsed() >= timeout {
            break Err((
                format!(
                    "not healthy after {}s (last seen: {last})",
                    started.elapsed().as_secs()
                ),
                vec![],
            ));
        }
        tokio::time::sleep(poll).await;
    };
    match outcome {
        Ok(summary) => {
            progress.finish(task, &summary);
            Ok(())
        }
        Err((why, stopped)) => {
            progress.finish(task, &format!("failed: {why}"));
            Err(fail(aws, names, r, why, stopped).await)
        }
    }
}

enum Step {
    Waiting(String),
    Done(String),
    Failed(String, Vec<Stopped>),
}

async fn step(
    aws: &Aws,
    names: &Names,
    r: &Rollout,
    since: f64,
    ours_seen: &mut bool,
) -> Result<Step, AwsError> {
    let found = aws::service::describe(aws, names, std::slice::from_ref(&r.arn)).await?;
    let Some(State::Service(s)) = found.into_iter().next().map(|o| o.state) else {
        return Ok(Step::Failed("the service no longer exists".into(), vec![]));
    };
    let shift = match r.deploy.shifts_traffic() {
        true => aws::service_deployment::newest(aws, names, &r.arn, since).await?,
        false => None,
    };
    if let Some(c) = shift
        .as_ref()
        .filter(|c| c.status.starts_with("ROLLBACK") || c.status == "STOPPED")
    {
        let stopped = stopped_of(aws, names, r, since).await;
        let why = format!("ECS rolled the deployment back: {}", reason_of(&c.reason));
        return Ok(Step::Failed(why, stopped));
    }
    let ours = s
        .deployments
        .iter()
        .find(|d| d.task_definition == r.task_definition);
    let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
    if ours.is_some() {
        *ours_seen = true;
    }
    if let Some(d) = ours
        && d.rollout == "FAILED"
    {
        let stopped = stopped_of(aws, names, r, since).await;
        return Ok(Step::Failed(reason_of(d.rollout_reason.as_str()), stopped));
    }
    if let Some(p) = primary
        && p.task_definition != r.task_definition
        && *ours_seen
    {
        let stopped = stopped_of(aws, names, r, since).await;
        return Ok(Step::Failed(
            format!(
                "ECS rolled back to {} (deployment circuit breaker)",
                short(&p.task_definition)
            ),
            stopped,
        ));
    }
    let stopped = stopped_of(aws, names, r, since).await;
    if stopped.len() >= FAIL_FAST_STOPPED {
        return Ok(Step::Failed(
            format!("{} tasks of the new revision stopped", stopped.len()),
            stopped,
        ));
    }
    let Some(p) = primary.filter(|p| p.task_definition == r.task_definition) else {
        return Ok(Step::Waiting("waiting for the new deployment".into()));
    };
    let mut status = deployment_line(&s, p.rollout.as_str(), p.running, p.pending, p.desired);
    if let Some(stage) = shift.as_ref().and_then(|c| stage_words(&c.stage)) {
        status.push_str(&format!(" ({stage})"));
    }
    // Baking: every request is on the new version, the old one is kept for an instant
    // rollback until ECS ends the deployment.
    if shift.as_ref().is_some_and(|c| c.stage == "BAKE_TIME") {
        return Ok(Step::Waiting(format!(
            "{status}; the old version is kept for the bake time ({} min): Ctrl-C, then `stackctl rollback {}`, moves every request back at once",
            crate::plan::bake_minutes(&r.deploy).unwrap_or_default(),
            r.service
        )));
    }
    if p.rollout != "COMPLETED" || p.running < p.desired || s.deployments.len() > 1 {
        return Ok(Step::Waiting(status));
    }
    if r.target_groups.is_empty() {
        return Ok(Step::Done(status));
    }
    // With two groups the new tasks are in either: the one with healthy targets.
    let (mut healthy, mut total, mut settled, mut other) = (0, 0, true, None);
    for tg in &r.target_groups {
        let (h, t, others) = aws::target_group::health(aws, tg).await?;
        if h > 0 || r.target_groups.len() == 1 {
            (healthy, total) = (healthy + h, total + t);
            settled &= h == t;
            other = other.or(others.into_iter().next());
        }
    }
    let targets = format!("targets {healthy} healthy of {total}");
    if healthy as i32 >= p.desired && settled {
        Ok(Step::Done(format!("{status}, {targets}")))
    } else {
        let mut line = format!("{status}, {targets}");
        if let Some(o) = other {
            line.push_str(&format!(" ({o})"));
        }
        Ok(Step::Waiting(line))
    }
}

/// What a blue/green, canary or linear deployment is doing, in words.
fn stage_words(stage: &str) -> Option<&'static str> {
    Some(match stage {
        "SCALE_UP" | "PRE_SCALE_UP" | "POST_SCALE_UP" => "starting the new version beside the old",
        "PRODUCTION_TRAFFIC_SHIFT"
        | "PRE_PRODUCTION_TRAFFIC_SHIFT"
        | "POST_PRODUCTION_TRAFFIC_SHIFT" => "moving requests to the new version",
        "BAKE_TIME" => "every request on the new version",
        "CLEAN_UP" => "stopping the old version",
        _ => return None,
    })
}

fn deployment_line(
    s: &ServiceState,
    rollout: &str,
    running: i32,
    pending: i32,
    desired: i32,
) -> String {
    let rollout = if rollout.is_empty() {
        "IN_PROGRESS"
    } else {
        rollout
    };
    format!(
        "{rollout}: {running} running, {pending} pending of {desired}{}",
        if s.deployments.len() > 1 {
            format!(", {} deployments", s.deployments.len())
        } else {
            String::new()
        }
    )
}

fn reason_of(reason: &str) -> String {
    if reason.is_empty() {
        "the deployment failed".into()
    } else {
        reason.into()
    }
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Tasks of the new revision that stopped since the watch began.
async fn stopped_of(aws: &Aws, names: &Names, r: &Rollout, since: f64) -> Vec<Stopped> {
    let name = names.ecs_service(&r.service);
    aws::task::stopped(aws, names, &name)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.task_definition == r.task_definition)
        .filter(|t| t.stopped_at.is_none_or(|at| at >= since))
        .collect()
}

/// Explain the failure and put the service back on the last good revision.
async fn fail(
    aws: &Aws,
    names: &Names,
    r: &Rollout,
    why: String,
    stopped: Vec<Stopped>,
) -> RolloutError {
    let mut details = Vec::new();
    for t in stopped.iter().take(3) {
        details.push(format!("task {} stopped: {}", t.id, t.reason));
        details.extend(t.containers.iter().map(|c| format!("  {c}")));
    }
    if let Some(t) = stopped.first()
        && let Some(container) = &t.container
    {
        let stream = format!("{}/{container}/{}", aws::container::LOG_STREAM_PREFIX, t.id);
        if let Ok(lines) = aws::logs::tail(aws, &r.log_group, &stream, LOG_LINES).await
            && !lines.is_empty()
        {
            details.push(format!("last log lines of {container} in task {}:", t.id));
            details.extend(lines.into_iter().map(|l| format!("  | {l}")));
        }
    }
    let hint = match &r.previous {
        Some(prev) if r.deploy.shifts_traffic() => stop_shift(aws, names, r, prev).await,
        Some(prev) => match aws::service::roll_back(aws, names, &r.arn, prev).await {
            Ok(()) => format!(
                "the service was put back on {}; fix the cause (see above) and run `stackctl up` again",
                short(prev)
            ),
            Err(e) => format!(
                "could not put the service back on {} ({e}); run `stackctl up` again once the cause is fixed",
                short(prev)
            ),
        },
        None => "the service has no earlier healthy revision; fix the cause (see above) and run `stackctl up` again, or `stackctl logs` to see more".into(),
    };
    RolloutError {
        service: r.service.clone(),
        why,
        details,
        hint,
    }
}

/// A blue/green, canary or linear deployment that failed: stopped with a rollback, which
/// puts production back on the old tasks at once while they still run. One ECS ended already
/// is told as it ended.
async fn stop_shift(aws: &Aws, names: &Names, r: &Rollout, prev: &str) -> String {
    let fix = "fix the cause (see above) and run `stackctl up` again";
    let current = aws::service_deployment::newest(aws, names, &r.arn, r.since).await;
    let c = match current {
        Ok(Some(c)) => c,
        Ok(None) => {
            return format!("ECS recorded no deployment for it: see `stackctl status`; {fix}");
        }
        Err(e) => return format!("could not read the deployment ({e}): see `stackctl status`"),
    };
    match c.status.as_str() {
        "PENDING" | "IN_PROGRESS" => match aws::service_deployment::stop(aws, &c.arn).await {
            Ok(()) => format!(
                "the deployment was stopped and rolled back: the requests go to {} again; {fix}",
                short(prev)
            ),
            Err(e) => format!(
                "could not stop the deployment ({e}): see `stackctl status`, and roll back with `stackctl rollback {}`",
                r.service
            ),
        },
        "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" | "ROLLBACK_SUCCESSFUL" => {
            format!("ECS rolled the deployment back to {}; {fix}", short(prev))
        }
        other => format!(
            "the deployment ended {other}: see `stackctl status`, and roll back with `stackctl rollback {}` if it serves the wrong version",
            r.service
        ),
    }
}
