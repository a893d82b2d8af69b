//! The Resource Groups Tagging API: everything in the region that still carries the stack's
//! tags, whatever its type. `down`'s last check, which sees kinds stackctl does not know.

use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx};
use crate::names::{Names, TAG_ENV, TAG_STACK};

/// ARNs of the resources tagged with this stack and environment that still exist. The API
/// also lists resources that were tagged and are gone ("tagged or previously tagged", API
/// reference, GetResources): ECS keeps deleted clusters and services as INACTIVE, and
/// deleted task definitions as INACTIVE or DELETE_IN_PROGRESS, for a while. The run lock is
/// not counted: `down` deletes it last.
pub async fn tagged(aws: &Aws, names: &Names) -> Result<Vec<String>, AwsError> {
    let lock = format!("parameter{}", names.lock_parameter());
    let mut live = Vec::new();
    for arn in listed(aws, names).await? {
        if !arn.ends_with(&lock) && !ecs_gone(aws, &arn).await? {
            live.push(arn);
        }
    }
    Ok(live)
}

/// Whether `arn` is an ECS cluster, service or task definition that no longer exists.
async fn ecs_gone(aws: &Aws, arn: &str) -> Result<bool, AwsError> {
    let Some((_, path)) = arn.split_once(":ecs:").and_then(|(_, r)| r.split_once(":")) else {
        return Ok(false);
    };
    let path = path.split_once(':').map_or(path, |(_, p)| p);
    let gone = |status: Option<&str>| status.is_none_or(|s| s != "ACTIVE" && s != "DRAINING");
    if path.starts_with("cluster/") {
        let out = aws.ecs.describe_clusters().clusters(arn).send().await;
        let out = out.ctx("describe ECS cluster", arn)?;
        return Ok(gone(out.clusters().first().and_then(|c| c.status())));
    }
    if let Some(rest) = path.strip_prefix("service/") {
        let cluster = rest.split('/').next().unwrap_or_default();
        let out = aws
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(arn)
            .send()
            .await
            .ctx("describe ECS service", arn)?;
        return Ok(gone(out.services().first().and_then(|s| s.status())));
    }
    if path.starts_with("task-definition/") {
        let out = aws
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .ctx("describe task definition", arn);
        return match out {
            Ok(o) => Ok(o
                .task_definition()
                .and_then(|t| t.status())
                .is_none_or(|s| s.as_str() != "ACTIVE")),
            Err(e) if e.is_not_found() => Ok(true),
            Err(e) => Err(e),
        };
    }
    Ok(false)
}

/// Everything the API lists with the stack's tags.
async fn listed(aws: &Aws, names: &Names) -> Result<Vec<String>, AwsError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let filter = |k: &str, v: &str| TagFilter::builder().key(k).values(v).build();
    let mut pages = aws
        .tagging
        .get_resources()
        .tag_filters(filter(TAG_STACK, &names.stack))
        .tag_filters(filter(TAG_ENV, &names.env))
        .into_paginator()
        .send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list resources tagged with stack", &names.stack)?;
        arns.extend(
            page.resource_tag_mapping_list()
                .iter()
                .filter_map(|m| m.resource_arn().map(str::to_string)),
        );
    }
    arns.sort();
    Ok(arns)
}

/// [`tagged`] until it is empty, for a while: the Tagging API can list a resource for some
/// time after it is deleted. Returns what is still listed at the end.
pub async fn until_none_tagged(aws: &Aws, names: &Names) -> Result<Vec<String>, AwsError> {
    let still = retry(
        Backoff::TAGGING,
        |e| e.code() == "StillTagged",
        || async {
            let left = tagged(aws, names).await?;
            if left.is_empty() {
                return Ok(Vec::new());
            }
            Err(AwsError {
                code: Some("StillTagged".into()),
                target: left.join(" "),
                ..AwsError::new("sweep", "", "")
            })
        },
    )
    .await;
    match still {
        Ok(none) => Ok(none),
        Err(e) if e.code() == "StillTagged" => {
            Ok(e.target.split(' ').map(str::to_string).collect())
        }
        Err(e) => Err(e),
    }
}
