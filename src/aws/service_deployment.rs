//! A service's deployment history, as ECS keeps it: each service deployment, how it ended and
//! the task definition its service revision runs (ECS API Reference, ListServiceDeployments
//! and DescribeServiceRevisions). `status` shows it; `rollback` picks from it.

use std::collections::BTreeMap;

use super::{Aws, AwsError, Ctx};
use crate::names::Names;
pub use crate::plan::rollback::Past;

/// How many deployments back `status` and `rollback` look.
pub const DEPTH: usize = 100;
/// ListServiceDeployments returns at most 100 a page, in no documented order: every page is
/// read, up to this many.
const PAGES: usize = 10;
/// DescribeServiceRevisions takes at most 20 ARNs.
const DESCRIBE_AT_MOST: usize = 20;

/// The latest [`DEPTH`] deployments of ECS service `service` (its name or ARN), newest
/// first; the task definition is read for the successful ones only.
pub async fn history(aws: &Aws, names: &Names, service: &str) -> Result<Vec<Past>, AwsError> {
    let cluster = names.cluster();
    let mut briefs = Vec::new();
    let mut token = None;
    for _ in 0..PAGES {
        let out = aws
            .ecs
            .list_service_deployments()
            .cluster(&cluster)
            .service(service)
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .ctx("list deployments of ECS service", service)?;
        briefs.extend(out.service_deployments().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let secs = |d: Option<&aws_sdk_ecs::primitives::DateTime>| d.map(|d| d.as_secs_f64());
    briefs.sort_by(|a, b| {
        let at = |x: &aws_sdk_ecs::types::ServiceDeploymentBrief| {
            secs(x.created_at().or(x.started_at())).unwrap_or_default()
        };
        at(b).total_cmp(&at(a))
    });
    briefs.truncate(DEPTH);
    let successful = |b: &&aws_sdk_ecs::types::ServiceDeploymentBrief| {
        b.status() == Some(&aws_sdk_ecs::types::ServiceDeploymentStatus::Successful)
    };
    let revisions: Vec<String> = briefs
        .iter()
        .filter(successful)
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

/// The newest service deployment of `service`, as DescribeServiceDeployments tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub arn: String,
    pub status: String,
    pub reason: String,
    /// `lifecycleStage` of a blue/green, canary or linear deployment (SCALE_UP,
    /// PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP…).
    pub stage: String,
}

/// The newest deployment of ECS service `service` started since `since` (seconds), if any:
/// one ListServiceDeployments with that lower bound, one DescribeServiceDeployments.
pub async fn newest(
    aws: &Aws,
    names: &Names,
    service: &str,
    since: f64,
) -> Result<Option<Current>, AwsError> {
    let cluster = names.cluster();
    let after = aws_sdk_ecs::types::CreatedAt::builder()
        .after(aws_sdk_ecs::primitives::DateTime::from_secs_f64(since))
        .build();
    let out = aws
        .ecs
        .list_service_deployments()
        .cluster(&cluster)
        .service(service)
        .created_at(after)
        .max_results(100)
        .send()
        .await
        .ctx("list deployments of ECS service", service)?;
    let newest = out.service_deployments().iter().max_by(|a, b| {
        let at = |x: &aws_sdk_ecs::types::ServiceDeploymentBrief| {
            x.created_at().map(|d| d.as_secs_f64()).unwrap_or_default()
        };
        at(a).total_cmp(&at(b))
    });
    let Some(arn) = newest.and_then(|b| b.service_deployment_arn()) else {
        return Ok(None);
    };
    let out = aws
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .ctx("describe deployment of ECS service", service)?;
    Ok(out.service_deployments().first().map(|d| Current {
        arn: arn.to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: d.status_reason().unwrap_or_default().to_string(),
        stage: d
            .lifecycle_stage()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    }))
}

/// Stops deployment `arn` and rolls it back to the revision before it (StopServiceDeployment
/// with ROLLBACK: at once while the old tasks still run, during a blue/green, canary or
/// linear deployment's traffic shift and bake time).
pub async fn stop(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    aws.ecs
        .stop_service_deployment()
        .service_deployment_arn(arn)
        .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .ctx("roll back ECS service deployment", arn)?;
    Ok(())
}
