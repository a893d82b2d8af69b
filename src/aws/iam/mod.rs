//! IAM roles: the task-execution role (managed ECS policy + an inline policy reading only
//! this stack's parameters) and one task role per service, under one IAM path, so a single
//! ListRoles finds them; and, with `ci:`, the roles CI assumes, under a path of their own.

use serde::Serialize;
use serde_json::{Value, json};

mod read;
mod write;

use super::kind::{Cx, Resource, parse_json, same_json};
use super::permissions::{CI_ROLES, Cmd, Permission, ROLES, Scope};
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};
pub(crate) use read::decode;
use read::policies;
pub use write::{attach, create, delete, delete_inline, detach, put_inline, update_trust};

/// An IAM role under the stack's path: the task execution role and one task role per service.
pub struct Role;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub path: String,
    pub trust_policy: String,
    pub managed: Vec<String>,
    /// (name, document)
    pub inline: Vec<(String, String)>,
    /// Its permissions boundary (with `ci:`, the stack's own roles': `Names::ci_boundary`).
    pub boundary: Option<String>,
    /// What must exist first: the policies it attaches and the provider it trusts, when
    /// they are the stack's.
    #[serde(skip)]
    pub after: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub path: String,
    pub trust_policy: String,
    pub managed: Vec<String>,
    pub inline: Vec<(String, String)>,
    pub boundary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    UpdateTrustPolicy { document: String },
    AttachPolicy { arn: String },
    DetachPolicy { arn: String },
    PutInlinePolicy { name: String, document: String },
    DeleteInlinePolicy { name: String },
    SetBoundary { arn: String },
    RemoveBoundary,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::UpdateTrustPolicy { .. } => write!(f, "reset the trust policy"),
            Fix::AttachPolicy { arn } => write!(f, "attach {arn}"),
            Fix::DetachPolicy { arn } => write!(f, "detach {arn}"),
            Fix::PutInlinePolicy { name, .. } => write!(f, "set inline policy {name}"),
            Fix::DeleteInlinePolicy { name } => write!(f, "delete inline policy {name}"),
            Fix::SetBoundary { arn } => write!(f, "set its permissions boundary to {arn}"),
            Fix::RemoveBoundary => write!(f, "remove its permissions boundary"),
        }
    }
}

impl Resource for Role {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("iam:ListRoles", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("iam:CreateRole", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
            ("iam:TagRole", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
            // The stack's roles trust ECS tasks of this account, always: a new trust is a
            // change of who may act as them, never a CI role's (IAM has no condition key that
            // could hold it to that).
            ("iam:UpdateAssumeRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Access]),
            ("iam:ListAttachedRolePolicies", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:AttachRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
            ("iam:DetachRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, Down]),
            ("iam:ListRolePolicies", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:GetRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:PutRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
            ("iam:DeleteRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, Down]),
            ("iam:DeleteRole", Scope::Arns("TheStacksRoles", ROLES), &[Up, Down]),
            // A role's permissions boundary is not in ListRoles (IAM API Reference, ListRoles).
            ("iam:GetRole", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:PutRolePermissionsBoundary", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
            // Lifting the boundary is changing who may do what: never a CI role's.
            ("iam:DeleteRolePermissionsBoundary", Scope::Arns("TheStacksRoles", ROLES), &[Access]),
            // The CI roles: read as the stack's other roles; changed only by who may change
            // who deploys (`Access`), never by those roles themselves.
            ("iam:GetRole", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:ListAttachedRolePolicies", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:ListRolePolicies", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:GetRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:CreateRole", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access]),
            ("iam:TagRole", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access]),
            ("iam:UpdateAssumeRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access]),
            ("iam:AttachRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access]),
            ("iam:DetachRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access, Down]),
            ("iam:PutRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access]),
            ("iam:DeleteRolePolicy", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access, Down]),
            ("iam:DeleteRole", Scope::Arns("TheStacksCiRoles", CI_ROLES), &[Access, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        spec.after.clone()
    }

    /// A role goes before the policies attached to it and the provider it trusts (IAM
    /// refuses to delete a policy still attached: DeletePolicy).
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(other, Kind::Policy | Kind::OidcProvider)
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if want.path != have.path {
            return Err(format!(
                "role path is {}, expected {}; IAM paths cannot change: delete the role",
                have.path, want.path
            ));
        }
        let mut fixes = Vec::new();
        if !same_json(Some(&want.trust_policy), Some(&have.trust_policy)) {
            fixes.push(Fix::UpdateTrustPolicy {
                document: want.trust_policy.clone(),
            });
        }
        let (managed, attached) = (&want.managed, &have.managed);
        fixes.extend(
            managed
                .iter()
                .filter(|a| !attached.contains(a))
                .map(|arn| Fix::AttachPolicy { arn: arn.clone() }),
        );
        fixes.extend(
            attached
                .iter()
                .filter(|a| !managed.contains(a))
                .map(|arn| Fix::DetachPolicy { arn: arn.clone() }),
        );
        for (name, doc) in &want.inline {
            let same = |(n, d): &(String, String)| n == name && same_json(Some(doc), Some(d));
            if !have.inline.iter().any(same) {
                fixes.push(Fix::PutInlinePolicy {
                    name: name.clone(),
                    document: doc.clone(),
                });
            }
        }
        for (name, _) in &have.inline {
            if !want.inline.iter().any(|(n, _)| n == name) {
                fixes.push(Fix::DeleteInlinePolicy { name: name.clone() });
            }
        }
        match (&want.boundary, &have.boundary) {
            (Some(w), h) if Some(w) != h.as_ref() => {
                // Bound first: the policies set after it are then capped by it.
                fixes.insert(0, Fix::SetBoundary { arn: w.clone() });
            }
            (None, Some(_)) => fixes.push(Fix::RemoveBoundary),
            _ => {}
        }
        Ok(fixes)
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        let inline: serde_json::Map<String, Value> = spec
            .inline
            .iter()
            .map(|(n, p)| (n.clone(), parse_json(p)))
            .collect();
        json!({ "trust_policy": parse_json(&spec.trust_policy), "inline": inline, "permissions_boundary": spec.boundary })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            path: spec.path.clone(),
            trust_policy: spec.trust_policy.clone(),
            managed: spec.managed.clone(),
            inline: spec.inline.clone(),
            boundary: spec.boundary.clone(),
        }
    }

    fn details(spec: &Spec) -> Vec<String> {
        // A CI role: who may assume it.
        let trust = parse_json(&spec.trust_policy);
        let sub = format!("{}:sub", super::oidc_provider::HOST);
        let subject = &trust["Statement"][0]["Condition"]["StringEquals"][sub.as_str()];
        subject
            .as_str()
            .map(|s| vec![format!("assumed by GitHub Actions jobs of {s}")])
            .unwrap_or_default()
    }

    async fn find(aws: &Aws, names: &Names, role_path: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names, role_path).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let aws = cx.aws;
        let id = create(aws, cx.names, key, name, spec).await?;
        for arn in &spec.managed {
            attach(aws, name, arn).await?;
        }
        for (policy, doc) in &spec.inline {
            put_inline(aws, name, policy, doc).await?;
        }
        Ok(id)
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        let (aws, id) = (cx.aws, have.id.as_str());
        match fix {
            Fix::UpdateTrustPolicy { document } => update_trust(aws, id, document).await,
            Fix::PutInlinePolicy { name, document } => put_inline(aws, id, name, document).await,
            Fix::AttachPolicy { arn } => attach(aws, id, arn).await,
            Fix::DetachPolicy { arn } => detach(aws, id, arn).await,
            Fix::DeleteInlinePolicy { name } => delete_inline(aws, id, name).await,
            Fix::SetBoundary { arn } => read::set_boundary(aws, id, Some(arn)).await,
            Fix::RemoveBoundary => read::set_boundary(aws, id, None).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id, &state.managed, &state.inline).await
    }
}

/// The stack's roles: under its path, and under its CI path.
pub async fn find(aws: &Aws, names: &Names, path: &str) -> Result<Vec<Observed>, AwsError> {
    let ci_path = names.ci_path();
    let (mut roles, ci) = tokio::try_join!(
        find_under(aws, names, path),
        find_under(aws, names, &ci_path)
    )?;
    roles.extend(ci);
    Ok(roles)
}

async fn find_under(aws: &Aws, names: &Names, path: &str) -> Result<Vec<Observed>, AwsError> {
    let mut found = Vec::new();
    let mut pages = aws
        .iam
        .list_roles()
        .path_prefix(path)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for role in page.ctx("list", "IAM roles")?.roles() {
            let name = role.role_name();
            let Some(key) = key_of(names, name) else {
                continue;
            };
            // Deleted since it was listed (a `down` elsewhere, or one killed mid-way): gone.
            let (managed, inline, boundary) = match policies(aws, name).await {
                Err(e) if e.is_not_found() => continue,
                other => other?,
            };
            found.push(Observed {
                key,
                id: name.into(),
                name: name.into(),
                state: plan::State::Role(State {
                    path: role.path().into(),
                    trust_policy: decode(role.assume_role_policy_document().unwrap_or_default()),
                    managed,
                    inline,
                    boundary,
                }),
            });
        }
    }
    Ok(found)
}

/// Which role of the stack a role name is (the inverse of `Names`).
fn key_of(names: &Names, role: &str) -> Option<Key> {
    if role == names.execution_role() {
        return Some(crate::plan::desired::execution_role());
    }
    if role == names.infrastructure_role() {
        return Some(crate::plan::desired::infrastructure_role());
    }
    for ci in crate::plan::desired::CI_ROLES {
        if role == names.ci_role(ci) {
            return Some(crate::plan::desired::ci_role(ci));
        }
    }
    let prefix = names.task_role("");
    let service = role
        .strip_suffix("-task")?
        .strip_prefix(prefix.strip_suffix("-task")?)?;
    (names.task_role(service) == role).then(|| crate::plan::desired::task_role(service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_keys_round_trip() {
        let n = Names::new("demo", "prod");
        assert_eq!(
            key_of(&n, &n.execution_role()),
            Some(crate::plan::desired::execution_role())
        );
        assert_eq!(
            key_of(&n, &n.task_role("api")),
            Some(crate::plan::desired::task_role("api"))
        );
        assert_eq!(
            key_of(&n, &n.ci_role("deploy")),
            Some(crate::plan::desired::ci_role("deploy"))
        );
        assert_eq!(
            key_of(&n, &n.infrastructure_role()),
            Some(crate::plan::desired::infrastructure_role())
        );
        assert_eq!(key_of(&n, "someone-else"), None);
    }
}
