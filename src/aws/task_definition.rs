//! Task definitions: one family per service. Revisions are immutable, so "update" is
//! "register a new revision"; observing reads the family's latest ACTIVE revision.

use aws_sdk_ecs::types::{
    RuntimePlatform, Tag, TaskDefinitionFamilyStatus, TaskDefinitionField, TaskDefinitionStatus,
    Volume,
};
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::Value;

use super::container::{
    COMPATIBILITY, CPU_ARCHITECTURE, NETWORK_MODE, OS_FAMILY, container_definition, parsed,
    request_json,
};
use super::kind::{Cx, Resource};
use super::permissions::{Cmd, Permission, Scope, TASK_DEFINITIONS};
use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx};
use crate::names::{Names, TAG_RESOURCE};
use crate::plan::{self, Ids, Key, Kind, Observed, TaskDef};

/// A service's task definition: one family, a new revision whenever its content changes.
pub struct TaskDefinition;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub def: TaskDef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub revision: i32,
    pub def: TaskDef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    /// Register a new revision (ECS revisions are immutable).
    RegisterRevision { changed: Vec<String> },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::RegisterRevision { changed } => {
                write!(f, "register a new revision ({})", changed.join(", "))
            }
        }
    }
}

impl Resource for TaskDefinition {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ecs:ListTaskDefinitionFamilies", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ecs:ListTaskDefinitions", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ecs:DescribeTaskDefinition", Scope::Any, &[Up, RotateToken, Rollback, Status, Down, Check]),
            ("ecs:RegisterTaskDefinition", Scope::Arns("TheStacksTaskDefinitions", TASK_DEFINITIONS), &[Up, RotateToken]),
            ("ecs:DeregisterTaskDefinition", Scope::Any, &[Up, RotateToken, Down]),
            ("ecs:DeleteTaskDefinitions", Scope::Arns("TheStacksTaskDefinitions", TASK_DEFINITIONS), &[Up, Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        let changed = plan::task_def_changes(&want.def, &have.def);
        Ok(if changed.is_empty() {
            vec![]
        } else {
            vec![Fix::RegisterRevision { changed }]
        })
    }

    fn summary(have: &State) -> String {
        let def = &have.def;
        format!(
            "revision {}, {} cpu / {} MiB, {}",
            have.revision,
            def.cpu,
            def.memory,
            def.image.as_deref().unwrap_or("no image")
        )
    }

    /// The request itself, in place of the spec.
    fn settings(key: &Key, spec: &Spec) -> Value {
        let container = key.name();
        let mut request = request_json(container, &spec.def);
        request["def"] = Value::Null;
        request
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            revision: 1,
            def: spec.def.clone(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        register(cx.aws, cx.names, key, name, &spec.def).await
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::RegisterRevision { .. } => {
                let arn = register(cx.aws, cx.names, &have.key, &have.name, &want.def).await?;
                cx.remember(&have.key, arn);
                Ok(())
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.name, is_leftover(&have.key)).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.task_family("");
    let mut families = Vec::new();
    let mut pages = aws
        .ecs
        .list_task_definition_families()
        .family_prefix(&prefix)
        // Also families with only deregistered revisions: `down` deletes those too.
        .status(TaskDefinitionFamilyStatus::All)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        families.extend(
            page.ctx("list", "task definition families")?
                .families()
                .iter()
                .filter(|f| f.starts_with(&prefix))
                .cloned(),
        );
    }
    let found = try_join_all(families.iter().map(|f| observe_family(aws, names, f))).await?;
    Ok(found.into_iter().flatten().collect())
}

/// Suffix of the key of a family that has only deregistered revisions left (a `down` was
/// interrupted between deregistering and deleting them): never desired, so deleted.
const LEFTOVER: &str = "-deregistered";

async fn observe_family(
    aws: &Aws,
    names: &Names,
    family: &str,
) -> Result<Option<Observed>, AwsError> {
    if let Some(latest) = describe(aws, names, family).await? {
        return Ok(Some(latest));
    }
    let inactive = revisions(aws, family, TaskDefinitionStatus::Inactive).await?;
    let Some(arn) = inactive.last() else {
        return Ok(None);
    };
    describe(aws, names, arn).await
}

/// A revision (`family` alone: the latest), if it is this stack's. Deregistered revisions
/// get the leftover key.
async fn describe(aws: &Aws, names: &Names, family: &str) -> Result<Option<Observed>, AwsError> {
    let out = aws
        .ecs
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .ctx("describe task definition", family);
    let out = match out {
        Ok(o) => o,
        // No ACTIVE revision left.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let tag = |k: &str| {
        out.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    if !names.owns(out.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))) {
        return Ok(None);
    }
    let (Some(td), Some(key)) = (out.task_definition(), tag(TAG_RESOURCE)) else {
        return Ok(None);
    };
    let key = match td.status() {
        Some(TaskDefinitionStatus::Active) | None => key.to_string(),
        _ => format!("{key}{LEFTOVER}"),
    };
    Ok(Some(Observed {
        key: Key(key),
        id: td.task_definition_arn().unwrap_or_default().into(),
        name: td.family().unwrap_or(family).into(),
        state: plan::State::TaskDefinition(State {
            revision: td.revision(),
            def: parsed(td),
        }),
    }))
}

/// Registers a revision of `family` with `def`; returns its ARN. The container is named
/// after the service (the key's name), which the service's load balancer entry refers to.
pub async fn register(
    aws: &Aws,
    names: &Names,
    key: &Key,
    family: &str,
    def: &TaskDef,
) -> Result<String, AwsError> {
    let container = key.name();
    let container = container_definition(container, def)
        .map_err(|e| AwsError::new("register task definition", family, e))?;
    let volumes: Vec<Volume> = def
        .volumes
        .keys()
        .map(|v| Volume::builder().name(v).build())
        .collect();
    let tags: Vec<Tag> = super::tags(names, &key.0, family)?;
    let send = || {
        aws.ecs
            .register_task_definition()
            .family(family)
            .requires_compatibilities(COMPATIBILITY)
            .network_mode(NETWORK_MODE)
            .cpu(def.cpu.to_string())
            .memory(def.memory.to_string())
            .runtime_platform(
                RuntimePlatform::builder()
                    .cpu_architecture(CPU_ARCHITECTURE)
                    .operating_system_family(OS_FAMILY)
                    .build(),
            )
            .execution_role_arn(&def.execution_role)
            .task_role_arn(&def.task_role)
            .container_definitions(container.clone())
            .set_volumes(Some(volumes.clone()))
            .set_tags(Some(tags.clone()))
    };
    // A role created moments ago may not be assumable by ECS yet.
    let out = retry(Backoff::PROPAGATION, is_role_propagation, || async {
        send().send().await.ctx("register task definition", family)
    })
    .await?;
    Ok(out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_string())
}

/// ECS's refusal while a new IAM role has not reached it yet.
pub fn is_role_propagation(e: &AwsError) -> bool {
    e.is_propagating()
}

/// Revisions of exactly `family` with `status`, oldest first.
async fn revisions(
    aws: &Aws,
    family: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut pages = aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(status)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        arns.extend(
            page.ctx("list revisions of task definition", family)?
                .task_definition_arns()
                .iter()
                // The prefix also matches `family-x`; keep `…:task-definition/family:N`.
                .filter(|a| {
                    a.rsplit_once(':')
                        .is_some_and(|(f, _)| f.ends_with(&format!("/{family}")))
                })
                .cloned(),
        );
    }
    Ok(arns)
}

/// Deregisters every ACTIVE revision of `family` (unless `only_deregistered`), then deletes
/// the deregistered ones (they would otherwise stay listed as INACTIVE).
pub async fn delete(aws: &Aws, family: &str, only_deregistered: bool) -> Result<(), AwsError> {
    let active = if only_deregistered {
        vec![]
    } else {
        revisions(aws, family, TaskDefinitionStatus::Active).await?
    };
    for arn in &active {
        let out = aws
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .ctx("deregister task definition", arn);
        match out {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
    }
    let all = revisions(aws, family, TaskDefinitionStatus::Inactive).await?;
    for chunk in all.chunks(10) {
        let out = aws
            .ecs
            .delete_task_definitions()
            .set_task_definitions(Some(chunk.to_vec()))
            .send()
            .await
            .ctx("delete task definitions", family);
        // Endpoints without DeleteTaskDefinitions: INACTIVE is as far as it goes.
        if let Err(e) = out
            && !matches!(
                e.code(),
                "UnknownOperationException" | "InvalidAction" | "ClientException" | ""
            )
        {
            return Err(e);
        }
    }
    Ok(())
}

/// Whether an observed task definition is only the deregistered leftovers of a family.
pub fn is_leftover(key: &Key) -> bool {
    key.0.ends_with(LEFTOVER)
}

/// A revision (ARN or `family:N`) as ECS has it: its ARN, content, and whether it is still
/// ACTIVE (a deregistered one runs no new task). None: ECS has no such revision.
pub async fn revision(aws: &Aws, reference: &str) -> Result<Option<(String, TaskDef, bool)>, AwsError> {
    let out = aws
        .ecs
        .describe_task_definition()
        .task_definition(reference)
        .send()
        .await
        .ctx("describe task definition", reference);
    let out = match out {
        Ok(o) => o,
        Err(e) if e.is_not_found() || e.code() == "ClientException" => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out.task_definition().map(|td| {
        let active = matches!(td.status(), Some(TaskDefinitionStatus::Active) | None);
        (
            td.task_definition_arn().unwrap_or(reference).to_string(),
            parsed(td),
            active,
        )
    }))
}
