//! A service's deployment history, as ECS keeps it: each service deployment, how it ended and
//! the task definition its service revision runs (ECS API Reference, ListServiceDeployments
//! and DescribeServiceRevisions). `status` shows it; `rollback` picks from it.

use std::collections::BTreeMap;

use super::{Aws, AwsError, Ctx};
use crate::names::Names;

/// One service deployment, newest first in [`history`].
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    /// `SUCCESSFUL`, `IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `STOPPED`, …
    pub status: String,
    pub reason: String,
    /// Epoch seconds.
    pub started: f64,
    pub finished: Option<f64>,
    /// The task definition ARN its revision runs (empty: ECS could not describe it).
    pub task_definition: String,
}

/// How many deployments back `status` and `rollback` look.
pub const DEPTH: i32 = 50;
/// DescribeServiceRevisions takes at most 20 ARNs.
const DESCRIBE_AT_MOST: usize = 20;

/// The latest [`DEPTH`] deployments of ECS service `service` (its name or ARN), newest first.
pub async fn history(aws: &Aws, names: &Names, service: &str) -> Result<Vec<Past>, AwsError> {
    let cluster = names.cluster();
    let out = aws
        .ecs
        .list_service_deployments()
        .cluster(&cluster)
        .service(service)
        .max_results(DEPTH)
        .send()
        .await
        .ctx("list deployments of ECS service", service)?;
    let mut briefs: Vec<_> = out.service_deployments().to_vec();
    let secs = |d: Option<&aws_sdk_ecs::primitives::DateTime>| d.map(|d| d.as_secs_f64());
    briefs.sort_by(|a, b| {
        let at = |x: &aws_sdk_ecs::types::ServiceDeploymentBrief| {
            secs(x.created_at().or(x.started_at())).unwrap_or_default()
        };
        at(b).total_cmp(&at(a))
    });
    let revisions: Vec<String> = briefs
        .iter()
        .filter_map(|b| b.target_service_revision_arn().map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut task_definitions = BTreeMap::new();
    for chunk in revisions.chunks(DESCRIBE_AT_MOST) {
        let out = aws
            .ecs
            .describe_service_revisions()
            .set_service_revision_arns(Some(chunk.to_vec()))
            .send()
            .await
            .ctx("describe revisions of ECS service", service)?;
        for r in out.service_revisions() {
            if let (Some(arn), Some(td)) = (r.service_revision_arn(), r.task_definition()) {
                task_definitions.insert(arn.to_string(), td.to_string());
            }
        }
    }
    Ok(briefs
        .iter()
        .map(|b| Past {
            status: b.status().map(|s| s.as_str()).unwrap_or_default().into(),
            reason: b.status_reason().unwrap_or_default().into(),
            started: secs(b.started_at().or(b.created_at())).unwrap_or_default(),
            finished: secs(b.finished_at()),
            task_definition: b
                .target_service_revision_arn()
                .and_then(|r| task_definitions.get(r))
                .cloned()
                .unwrap_or_default(),
        })
        .collect())
}
