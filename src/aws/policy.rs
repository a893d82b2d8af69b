//! Customer managed IAM policies: the CI roles' permissions, in as many parts as IAM's size
//! limit on one managed policy takes (`permissions::documents`). Under the stack's CI path, so
//! one ListPolicies finds them and the stack's own role permissions never reach them.

use serde::Serialize;
use serde_json::{Value, json};

use super::iam::decode;
use super::kind::{Cx, Resource, parse_json, same_json};
use super::permissions::{CI_POLICIES, Cmd, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// IAM keeps at most five versions of a managed policy (CreatePolicyVersion: "delete an
/// existing version before you create a new one").
pub const MAX_VERSIONS: usize = 5;

/// A customer managed policy of the stack.
pub struct Policy;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub path: String,
    pub document: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub path: String,
    /// The default version's document.
    pub document: String,
    /// Its other versions, oldest first.
    pub old_versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    NewVersion { document: String },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::NewVersion { .. } => write!(f, "set a new default version of its document"),
        }
    }
}

impl Resource for Policy {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("iam:ListPolicies", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("iam:ListPolicyVersions", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:GetPolicyVersion", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Up, RotateToken, Status, Down, Check]),
            ("iam:CreatePolicy", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Access]),
            ("iam:TagPolicy", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Access]),
            ("iam:CreatePolicyVersion", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Access]),
            ("iam:DeletePolicyVersion", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Access, Down]),
            ("iam:DeletePolicy", Scope::Arns("TheStacksCiPolicies", CI_POLICIES), &[Access, Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if want.path != have.path {
            return Err(format!(
                "policy path is {}, expected {}; IAM paths cannot change: delete the policy",
                have.path, want.path
            ));
        }
        Ok(if same_json(Some(&want.document), Some(&have.document)) {
            vec![]
        } else {
            vec![Fix::NewVersion {
                document: want.document.clone(),
            }]
        })
    }

    fn details(spec: &Spec) -> Vec<String> {
        let doc = parse_json(&spec.document);
        let statements = doc["Statement"].as_array().map_or(0, Vec::len);
        vec![format!(
            "{statements} statements, {} characters",
            super::permissions::size(&doc)
        )]
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        json!({ "document": parse_json(&spec.document) })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            path: spec.path.clone(),
            document: spec.document.clone(),
            old_versions: vec![],
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let mut found = Vec::new();
        let mut pages = aws
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .path_prefix(names.ci_path())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for p in page.ctx("list", "IAM policies")?.policies() {
                let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) else {
                    continue;
                };
                let Some(key) = key_of(names, name) else {
                    continue;
                };
                // Deleted since it was listed: gone.
                let (document, old_versions) = match versions(aws, arn).await {
                    Err(e) if e.is_not_found() => continue,
                    other => other?,
                };
                found.push(Observed {
                    key,
                    id: arn.into(),
                    name: name.into(),
                    state: plan::State::Policy(State {
                        path: p.path().unwrap_or_default().into(),
                        document,
                        old_versions,
                    }),
                });
            }
        }
        Ok(found)
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let tags = super::tags(cx.names, &key.0, name)?;
        let created = cx
            .aws
            .iam
            .create_policy()
            .policy_name(name)
            .path(&spec.path)
            .policy_document(&spec.document)
            .description(format!("stackctl {}/{}: CI", cx.names.stack, cx.names.env))
            .set_tags(Some(tags))
            .send()
            .await
            .ctx("create IAM policy", name);
        match created {
            Ok(out) => Ok(out
                .policy()
                .and_then(|p| p.arn())
                .unwrap_or_default()
                .to_string()),
            // Made by a run that stopped before it was observed: the same name, the same ARN.
            Err(e) if e.is_already_exists() => {
                let id = cx.aws.identity().await?;
                Ok(format!(
                    "arn:{}:iam::{}:policy{}{name}",
                    id.partition, id.account, spec.path
                ))
            }
            Err(e) => Err(e),
        }
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        state: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        let Fix::NewVersion { document } = fix;
        let iam = &cx.aws.iam;
        for version in to_make_room(&state.old_versions) {
            delete_version(cx.aws, &have.id, version).await?;
        }
        iam.create_policy_version()
            .policy_arn(&have.id)
            .policy_document(document)
            .set_as_default(true)
            .send()
            .await
            .ctx("create a version of IAM policy", &have.name)?;
        Ok(())
    }

    /// IAM deletes a policy only once its other versions are gone (DeletePolicy); the roles
    /// it is attached to go first (`delete_before`).
    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        for version in &state.old_versions {
            delete_version(cx.aws, &have.id, version).await?;
        }
        cx.aws
            .iam
            .delete_policy()
            .policy_arn(&have.id)
            .send()
            .await
            .ctx("delete IAM policy", &have.name)
            .ok_if_not_found()?;
        Ok(())
    }
}

/// Its default document and its other versions' ids, oldest first.
async fn versions(aws: &Aws, arn: &str) -> Result<(String, Vec<String>), AwsError> {
    let list = aws
        .iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .ctx("list versions of IAM policy", arn)?;
    let mut all: Vec<_> = list.versions().to_vec();
    all.sort_by_key(|v| v.create_date().map(|d| (d.secs(), d.subsec_nanos())));
    let default = all
        .iter()
        .find(|v| v.is_default_version())
        .and_then(|v| v.version_id())
        .unwrap_or("v1")
        .to_string();
    let old = all
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| v.version_id().map(str::to_string))
        .collect();
    let got = aws
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&default)
        .send()
        .await
        .ctx("get IAM policy", arn)?;
    let doc = got
        .policy_version()
        .and_then(|v| v.document())
        .map(decode)
        .unwrap_or_default();
    Ok((doc, old))
}

async fn delete_version(aws: &Aws, arn: &str, version: &str) -> Result<(), AwsError> {
    aws.iam
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .ctx("delete a version of IAM policy", arn)
        .ok_if_not_found()?;
    Ok(())
}

/// The old versions to delete before one more is made: the oldest, while the default, the
/// old ones and the new one would be more than IAM keeps.
fn to_make_room(old: &[String]) -> &[String] {
    &old[..(old.len() + 2).saturating_sub(MAX_VERSIONS).min(old.len())]
}

/// Which policy of the stack a name is (the inverse of `Names::ci_policy`).
fn key_of(names: &Names, policy: &str) -> Option<Key> {
    if policy == names.ci_boundary() {
        return Some(crate::plan::desired::ci_boundary());
    }
    crate::plan::desired::CI_ROLES.iter().find_map(|role| {
        let part: usize = policy
            .strip_prefix(&names.ci_role(role))?
            .strip_prefix('-')?
            .parse()
            .ok()?;
        (names.ci_policy(role, part) == policy).then(|| crate::plan::desired::ci_policy(role, part))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_keys_round_trip() {
        let n = Names::new("demo", "prod");
        for (role, part) in [("deploy", 1), ("deploy", 3), ("plan", 1)] {
            assert_eq!(
                key_of(&n, &n.ci_policy(role, part)),
                Some(crate::plan::desired::ci_policy(role, part))
            );
        }
        assert_eq!(
            key_of(&n, &n.ci_boundary()),
            Some(crate::plan::desired::ci_boundary())
        );
        assert_eq!(key_of(&n, "demo-prod-ci-deploy-01"), None);
        assert_eq!(key_of(&n, "demo-prod-ci-deploy"), None);
        assert_eq!(key_of(&n, "other-prod-ci-deploy-1"), None);
    }

    #[test]
    fn a_new_version_makes_room_when_iam_keeps_five() {
        let old: Vec<String> = (1..=4).map(|v| format!("v{v}")).collect();
        // Four old and the default: the oldest goes before a sixth is made.
        assert_eq!(to_make_room(&old), ["v1"]);
        assert!(to_make_room(&old[..3]).is_empty());
        assert!(to_make_room(&[]).is_empty());
    }
}
