//! CloudWatch log groups, one per service, with a retention period.

use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{Key, Kind, Observed, State};

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.log_group("");
    let mut found = Vec::new();
    let mut pages = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for g in page.ctx("describe", "log groups")?.log_groups() {
            let Some(name) = g.log_group_name() else {
                continue;
            };
            let service = name.strip_prefix(&prefix).unwrap_or(name);
            found.push(Observed {
                key: Key::new(Kind::LogGroup, service),
                id: name.into(),
                name: name.into(),
                state: State::LogGroup {
                    retention_days: g.retention_in_days(),
                },
            });
        }
    }
    Ok(found)
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    retention_days: i32,
) -> Result<String, AwsError> {
    let mut req = aws.logs.create_log_group().log_group_name(name);
    for (k, v) in names.tags(&key.0, name) {
        req = req.tags(k, v);
    }
    match req.send().await.ctx("create log group", name) {
        Err(e) if !e.is_already_exists() => return Err(e),
        _ => {}
    }
    set_retention(aws, name, retention_days).await?;
    Ok(name.into())
}

pub async fn set_retention(aws: &Aws, name: &str, days: i32) -> Result<(), AwsError> {
    aws.logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .ctx("set retention of log group", name)?;
    Ok(())
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .ctx("delete log group", name)
        .ok_if_not_found()?;
    Ok(())
}

/// The last `n` lines of one log stream (oldest first); empty if the stream does not exist.
pub async fn tail(aws: &Aws, group: &str, stream: &str, n: i32) -> Result<Vec<String>, AwsError> {
    let out = aws
        .logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .limit(n)
        .start_from_head(false)
        .send()
        .await
        .ctx("read log stream", stream);
    match out {
        Ok(o) => Ok(o
            .events()
            .iter()
            .filter_map(|e| e.message().map(str::to_string))
            .collect()),
        Err(e) if e.is_not_found() => Ok(vec![]),
        Err(e) => Err(e),
    }
}

/// One page of events of the whole group from `start` (ms since the epoch), interleaved
/// across streams; with the token to continue from.
pub async fn events(
    aws: &Aws,
    group: &str,
    start: i64,
    token: Option<String>,
) -> Result<(Vec<(i64, String, String)>, Option<String>), AwsError> {
    let out = aws
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(start)
        .set_next_token(token)
        .send()
        .await
        .ctx("read log group", group)?;
    let lines = out
        .events()
        .iter()
        .map(|e| {
            (
                e.timestamp().unwrap_or_default(),
                e.log_stream_name().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok((lines, out.next_token().map(str::to_string)))
}
