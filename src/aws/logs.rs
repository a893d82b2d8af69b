//! CloudWatch log groups, one per service, with a retention period.

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, LOG_GROUPS, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};
use crate::cost;

/// A CloudWatch log group per service, with a retention period.
pub struct LogGroup;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetRetention { days: i32 },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetRetention { days } => write!(f, "keep logs {days} days"),
        }
    }
}

impl Resource for LogGroup {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("logs:DescribeLogGroups", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("logs:CreateLogGroup", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
            ("logs:TagResource", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
            ("logs:PutRetentionPolicy", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
            ("logs:DeleteLogGroup", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up, Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        Ok(if have.retention_days == Some(want.retention_days) {
            vec![]
        } else {
            vec![Fix::SetRetention {
                days: want.retention_days,
            }]
        })
    }

    fn usage(_: &Key, spec: &Spec, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(Some(spec.retention_days), &i.assumptions)
    }

    fn usage_now(_: &Key, have: &State, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(have.retention_days, &i.assumptions)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({})
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            retention_days: Some(spec.retention_days),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key, name, spec.retention_days).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetRetention { days } => set_retention(cx.aws, &have.id, *days).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

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
                state: plan::State::LogGroup(State {
                    retention_days: g.retention_in_days(),
                }),
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

/// A month of logs ingested, and what the retention keeps stored once it is full (a group
/// that never expires counted at a year's worth).
fn billed(retention_days: Option<i32>, a: &cost::Assumptions) -> Vec<cost::Usage> {
    use cost::{Meter, Usage, fmt_num};
    let days = retention_days.unwrap_or(365).min(365);
    let stored = a.log_gb * f64::from(days) / 30.0;
    vec![
        Usage::new(
            Meter::LogsIngestedGb,
            a.log_gb,
            format!("{} GB a month (assumed)", fmt_num(a.log_gb)),
        ),
        Usage::new(
            Meter::LogsStoredGbMonths,
            stored,
            format!("{} GB a month kept {days} days", fmt_num(a.log_gb)),
        ),
    ]
}
