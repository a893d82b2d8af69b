//! ECS tasks of a service: read to explain why a rollout fails; listed and stopped by
//! `stackctl check resilience`.

use aws_sdk_ecs::types::DesiredStatus;

use super::{Aws, AwsError, Ctx};
use crate::names::Names;

/// A task that stopped, with what ECS says about why.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub id: String,
    pub task_definition: String,
    pub reason: String,
    /// `container: exit code / reason` for each container that says something.
    pub containers: Vec<String>,
    /// The essential container's name (its log stream is `ecs/<name>/<id>`).
    pub container: Option<String>,
    pub stopped_at: Option<f64>,
}

/// The ARNs of ECS service `service`'s tasks ECS wants in `status`.
async fn list(
    aws: &Aws,
    names: &Names,
    service: &str,
    status: DesiredStatus,
) -> Result<Vec<String>, AwsError> {
    let op = match status {
        DesiredStatus::Stopped => "list stopped tasks of service",
        _ => "list running tasks of service",
    };
    let list = aws
        .ecs
        .list_tasks()
        .cluster(names.cluster())
        .service_name(service)
        .desired_status(status)
        .send()
        .await
        .ctx(op, service)?;
    Ok(list.task_arns().to_vec())
}

/// Stopped tasks of ECS service `service` (ECS keeps them for about an hour), newest first.
pub async fn stopped(aws: &Aws, names: &Names, service: &str) -> Result<Vec<Stopped>, AwsError> {
    let cluster = names.cluster();
    let arns: Vec<String> = list(aws, names, service, DesiredStatus::Stopped)
        .await?
        .into_iter()
        .take(100)
        .collect();
    let mut out = Vec::new();
    for chunk in arns.chunks(100) {
        let tasks = aws
            .ecs
            .describe_tasks()
            .cluster(&cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .ctx("describe stopped tasks of service", service)?;
        for t in tasks.tasks() {
            let arn = t.task_arn().unwrap_or_default();
            out.push(Stopped {
                id: arn.rsplit('/').next().unwrap_or(arn).into(),
                task_definition: t.task_definition_arn().unwrap_or_default().into(),
                reason: t.stopped_reason().unwrap_or("no reason given").into(),
                containers: t
                    .containers()
                    .iter()
                    .filter_map(|c| {
                        let what = match (c.exit_code(), c.reason()) {
                            (_, Some(r)) => r.to_string(),
                            (Some(code), None) => format!("exit code {code}"),
                            (None, None) => return None,
                        };
                        Some(format!("{}: {what}", c.name().unwrap_or("?")))
                    })
                    .collect(),
                container: t
                    .containers()
                    .first()
                    .and_then(|c| c.name())
                    .map(str::to_string),
                stopped_at: t.stopped_at().map(|d| d.as_secs_f64()),
            });
        }
    }
    out.sort_by(|a, b| {
        b.stopped_at
            .partial_cmp(&a.stopped_at)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(out)
}

/// The ARNs of ECS service `service`'s tasks ECS wants running (a task being stopped is not
/// one).
pub async fn running(aws: &Aws, names: &Names, service: &str) -> Result<Vec<String>, AwsError> {
    list(aws, names, service, DesiredStatus::Running).await
}

/// Stop one task, as ECS's own StopTask: its target drains, it gets SIGTERM, and the service
/// starts a replacement.
pub async fn stop(aws: &Aws, names: &Names, task: &str, reason: &str) -> Result<(), AwsError> {
    aws.ecs
        .stop_task()
        .cluster(names.cluster())
        .task(task)
        .reason(reason)
        .send()
        .await
        .ctx("stop task", task)
        .map(drop)
}
