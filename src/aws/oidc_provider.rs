//! GitHub's OpenID Connect identity provider in IAM: what lets a GitHub Actions job exchange
//! its token for the CI roles' credentials, with no key stored anywhere. An account has at
//! most one per URL, shared by whatever trusts it: created when missing (no thumbprint: IAM
//! trusts GitHub's certificate authority itself, IAM User Guide, "Create an OpenID Connect
//! (OIDC) identity provider in IAM"), deleted only when stackctl made it, this stack used it,
//! and no role outside the stack trusts it. A stack using one another stack made tags it
//! (`Names::uses_tag`): its trust may be gone (a `down` stopped after deleting the CI roles)
//! when the next `down` comes to delete the provider.

use serde::Serialize;
use serde_json::{Value, json};

use super::iam::decode;
use super::kind::{Cx, Resource};
use super::permissions::{Cmd, OIDC_PROVIDER, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::{Names, TAG_STACK};
use crate::plan::{self, Ids, Key, Kind, Observed};

/// The issuer of GitHub Actions' tokens; the prefix of its condition keys in IAM.
pub const HOST: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` asks GitHub's token for.
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// GitHub's OIDC provider in the account.
pub struct OidcProvider;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    /// The audience it must accept.
    pub audience: String,
    /// The tag saying this stack uses it (`Names::uses_tag`).
    pub uses_tag: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub client_ids: Vec<String>,
    /// Why it is not the stack's to delete, when it is not.
    pub kept: Option<String>,
    /// Whether it says this stack uses it: made by the stack, tagged as used by it, or made
    /// outside stackctl (whose tags are not stackctl's to add to).
    pub marked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    AddAudience { audience: String },
    /// Tag it as used by this stack (`Names::uses_tag`).
    Mark { tag: String },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::AddAudience { audience } => write!(f, "accept the audience {audience}"),
            Fix::Mark { tag } => write!(f, "tag it as used by this stack ({tag})"),
        }
    }
}

impl Resource for OidcProvider {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("iam:ListOpenIDConnectProviders", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("iam:GetOpenIDConnectProvider", Scope::Arns("GitHubsIdentityProvider", OIDC_PROVIDER), &[Up, RotateToken, Status, Down, Check]),
            ("iam:CreateOpenIDConnectProvider", Scope::Arns("GitHubsIdentityProvider", OIDC_PROVIDER), &[Access]),
            ("iam:TagOpenIDConnectProvider", Scope::Arns("GitHubsIdentityProvider", OIDC_PROVIDER), &[Access]),
            ("iam:AddClientIDToOpenIDConnectProvider", Scope::Arns("GitHubsIdentityProvider", OIDC_PROVIDER), &[Access]),
            ("iam:DeleteOpenIDConnectProvider", Scope::Arns("GitHubsIdentityProvider", OIDC_PROVIDER), &[Access, Down]),
        ]
    };

    fn shared(have: &State) -> bool {
        have.kept.is_some()
    }

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    /// Another audience someone else needs stays: the provider is shared.
    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        let mut fixes = Vec::new();
        if !have.client_ids.contains(&want.audience) {
            fixes.push(Fix::AddAudience {
                audience: want.audience.clone(),
            });
        }
        if !have.marked {
            fixes.push(Fix::Mark {
                tag: want.uses_tag.clone(),
            });
        }
        Ok(fixes)
    }

    fn summary(have: &State) -> String {
        match &have.kept {
            Some(why) => format!("kept by `down`: {why}"),
            None => "deleted with the stack's CI roles".into(),
        }
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({ "url": format!("https://{HOST}"), "thumbprints": "none: IAM trusts GitHub's certificate authority" })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            client_ids: vec![spec.audience.clone()],
            kept: None,
            marked: true,
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let listed = aws
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .ctx("list", "OIDC providers")?;
        let suffix = format!(":oidc-provider/{HOST}");
        let Some(arn) = listed
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn())
            .find(|a| a.ends_with(&suffix))
        else {
            return Ok(vec![]);
        };
        let got = aws
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .ctx("get OIDC provider", arn);
        let got = match got {
            Err(e) if e.is_not_found() => return Ok(vec![]),
            other => other?,
        };
        let tags: Vec<(&str, &str)> = got.tags().iter().map(|t| (t.key(), t.value())).collect();
        let made_by_stackctl = tags.iter().any(|(k, _)| *k == TAG_STACK);
        let made_here = names.owns(tags.iter().copied());
        let marked_here = tags.iter().any(|(k, _)| *k == names.uses_tag());
        let used_here = marked_here
            || !trusting(aws, arn, Some(&names.ci_path()))
                .await?
                .is_empty();
        let kept = if !made_by_stackctl {
            Some("made outside stackctl".to_string())
        } else if !(made_here || used_here) {
            Some("made for another stack".to_string())
        } else {
            others(aws, names, arn).await?
        };
        Ok(vec![Observed {
            key: crate::plan::desired::oidc_provider(),
            id: arn.into(),
            name: HOST.into(),
            state: plan::State::OidcProvider(State {
                client_ids: got.client_id_list().to_vec(),
                kept,
                // IAM takes 50 tags a resource (IAM User Guide, "IAM and AWS STS quotas"):
                // past that, the stack's trust alone says it uses the provider.
                marked: !made_by_stackctl || made_here || marked_here || tags.len() >= 50,
            }),
        }])
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let tags = super::tags(cx.names, &key.0, name)?;
        let created = cx
            .aws
            .iam
            .create_open_id_connect_provider()
            .url(format!("https://{HOST}"))
            .client_id_list(&spec.audience)
            .set_tags(Some(tags))
            .send()
            .await
            .ctx("create OIDC provider", HOST);
        match created {
            Ok(out) => Ok(out
                .open_id_connect_provider_arn()
                .unwrap_or_default()
                .into()),
            // Another stack made it since this run looked: one per account, shared.
            Err(e) if e.is_already_exists() => {
                let id = cx.aws.identity().await?;
                Ok(format!(
                    "arn:{}:iam::{}:oidc-provider/{HOST}",
                    id.partition, id.account
                ))
            }
            Err(e) => Err(e),
        }
    }

    async fn fix(cx: &Cx<'_>, _: &Spec, have: &Observed, _: &State, fix: &Fix) -> Result<(), AwsError> {
        let audience = match fix {
            Fix::AddAudience { audience } => audience,
            Fix::Mark { tag } => {
                use super::tags::SdkTag;
                let tag = aws_sdk_iam::types::Tag::make(tag.clone(), "ci".into())
                    .map_err(|e| AwsError::new("tag", HOST, e))?;
                cx.aws
                    .iam
                    .tag_open_id_connect_provider()
                    .open_id_connect_provider_arn(&have.id)
                    .tags(tag)
                    .send()
                    .await
                    .ctx("tag OIDC provider", HOST)?;
                return Ok(());
            }
        };
        cx.aws
            .iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&have.id)
            .client_id(audience)
            .send()
            .await
            .ctx("add an audience to OIDC provider", HOST)?;
        Ok(())
    }

    /// Looked at again just before: a role made elsewhere since `up` or `down` observed keeps
    /// it (IAM would delete it from under that role).
    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        if others(cx.aws, cx.names, &have.id).await?.is_some() {
            return Ok(());
        }
        cx.aws
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(&have.id)
            .send()
            .await
            .ctx("delete OIDC provider", HOST)
            .ok_if_not_found()?;
        Ok(())
    }
}

/// Why roles outside the stack's CI path keep the provider, if any trust it.
async fn others(aws: &Aws, names: &Names, arn: &str) -> Result<Option<String>, AwsError> {
    let ci = names.ci_path();
    let mut roles: Vec<String> = trusting(aws, arn, None)
        .await?
        .into_iter()
        .filter(|(path, _)| *path != ci)
        .map(|(_, name)| name)
        .collect();
    if roles.is_empty() {
        return Ok(None);
    }
    let n = roles.len();
    roles.truncate(3);
    Ok(Some(format!(
        "trusted by {n} other role{} ({}{})",
        if n == 1 { "" } else { "s" },
        roles.join(", "),
        if n > 3 { ", …" } else { "" }
    )))
}

/// The roles (path, name) under `path` (None: the whole account) whose trust policy names
/// the provider `arn` as a federated principal.
async fn trusting(aws: &Aws, arn: &str, path: Option<&str>) -> Result<Vec<(String, String)>, AwsError> {
    let mut found = Vec::new();
    let mut pages = aws
        .iam
        .list_roles()
        .set_path_prefix(path.map(str::to_string))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for role in page.ctx("list", "IAM roles")?.roles() {
            let doc = decode(role.assume_role_policy_document().unwrap_or_default());
            if trusts(&doc, arn) {
                found.push((role.path().to_string(), role.role_name().to_string()));
            }
        }
    }
    Ok(found)
}

/// Whether a trust policy names `arn` as a federated principal.
fn trusts(doc: &str, arn: &str) -> bool {
    let doc: Value = serde_json::from_str(doc).unwrap_or_default();
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    statements.iter().any(|s| match &s["Principal"]["Federated"] {
        Value::String(p) => p == arn,
        Value::Array(ps) => ps.iter().any(|p| p == arn),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_policy_names_the_provider_as_a_string_or_in_a_list() {
        let arn = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com";
        let one = json!({"Statement": [{"Principal": {"Federated": arn}}]}).to_string();
        let list = json!({"Statement": {"Principal": {"Federated": ["x", arn]}}}).to_string();
        let ecs = json!({"Statement": [{"Principal": {"Service": "ecs-tasks.amazonaws.com"}}]});
        assert!(trusts(&one, arn));
        assert!(trusts(&list, arn));
        assert!(!trusts(&ecs.to_string(), arn));
        assert!(!trusts("not json", arn));
    }
}
