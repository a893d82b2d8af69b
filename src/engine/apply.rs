//! Carry out a plan: independent changes run concurrently, each as soon as what it
//! depends on is done. A failure stops only what depends on it.

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::progress::Progress;
use crate::aws::kind::Cx;
use crate::aws::{Aws, AwsError, registry};
use crate::names::Names;
use crate::plan::{self, Action, Change, Desired, Ids, Observed};

#[derive(Debug, thiserror::Error)]
#[error("{} of {} changes failed", failed.len(), total)]
pub struct ApplyError {
    pub failed: Vec<(String, AwsError)>,
    pub skipped: Vec<String>,
    pub total: usize,
}

struct Run<'a> {
    cx: Cx<'a>,
    desired: &'a [Desired],
    observed: &'a [Observed],
}

pub async fn apply(
    aws: &Aws,
    names: &Names,
    desired: &[Desired],
    observed: &[Observed],
    plan: &plan::Plan,
    ids: Ids,
    progress: &Progress,
) -> Result<Ids, ApplyError> {
    let deps = plan::order(plan, desired);
    let run = Run {
        cx: Cx::new(aws, names, ids),
        desired,
        observed,
    };
    let n = plan.changes.len();
    let mut state = vec![Status::Waiting; n];
    let mut failed = Vec::new();
    let mut running = FuturesUnordered::new();
    loop {
        for i in 0..n {
            if state[i] != Status::Waiting {
                continue;
            }
            if deps[i]
                .iter()
                .any(|d| matches!(state[*d], Status::Failed | Status::Skipped))
            {
                state[i] = Status::Skipped;
            } else if deps[i].iter().all(|d| state[*d] == Status::Done) {
                state[i] = Status::Running;
                let change = &plan.changes[i];
                let task = progress.start(label(change));
                let run = &run;
                running.push(async move { (i, task, run.execute(change).await) });
            }
        }
        let Some((i, task, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(outcome) => {
                progress.finish(task, &outcome);
                state[i] = Status::Done;
            }
            Err(e) => {
                progress.finish(task, &format!("failed: {e}"));
                state[i] = Status::Failed;
                failed.push((plan.changes[i].key.0.clone(), e));
            }
        }
    }
    // Still waiting when nothing runs: a dependency never done (a cycle); never a success.
    let skipped: Vec<String> = (0..n)
        .filter(|i| matches!(state[*i], Status::Skipped | Status::Waiting))
        .map(|i| plan.changes[i].key.0.clone())
        .collect();
    drop(running);
    if failed.is_empty() && skipped.is_empty() {
        Ok(run.cx.into_ids())
    } else {
        Err(ApplyError {
            failed,
            skipped,
            total: n,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

fn label(c: &Change) -> String {
    let verb = match c.action {
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::Delete { .. } => "delete",
        Action::Blocked { .. } => "check",
    };
    format!("{verb} {} {}", c.kind.label(), c.name)
}

impl Run<'_> {
    async fn execute(&self, change: &Change) -> Result<String, AwsError> {
        let cx = &self.cx;
        match &change.action {
            Action::Create { spec } => {
                let id = registry::create(cx, &change.key, &change.name, spec).await?;
                cx.remember(&change.key, id.clone());
                Ok(format!("created {id}"))
            }
            Action::Update { fixes } => {
                let have = self.observed.iter().find(|o| o.key == change.key);
                let want = self.desired.iter().find(|d| d.key == change.key);
                let (Some(have), Some(want)) = (have, want) else {
                    return Err(AwsError::new("update", &change.key, "not observed"));
                };
                for fix in fixes {
                    registry::fix(cx, &want.spec, have, fix).await?;
                }
                Ok(fixes
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", "))
            }
            Action::Delete { id } => {
                // By key and id: ids are unique per kind only (the DB subnet group and the
                // RDS instance are both named `{stack}-{env}`).
                let have = self
                    .observed
                    .iter()
                    .find(|o| o.key == change.key && &o.id == id)
                    .ok_or_else(|| AwsError::new("delete", id, "not observed"))?;
                registry::delete(cx, have).await?;
                Ok(format!("deleted {id}"))
            }
            Action::Blocked { reason } => Err(AwsError::new("change", &change.key, reason.clone())),
        }
    }
}
