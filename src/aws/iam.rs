//! IAM roles: the task-execution role (managed ECS policy + an inline policy reading only
//! this stack's parameters) and one task role per service. All live under one IAM path, so
//! a single ListRoles finds them.

use aws_sdk_iam::types::Tag;

use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{Key, Observed, State};

pub async fn find(aws: &Aws, names: &Names, path: &str) -> Result<Vec<Observed>, AwsError> {
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
            let (managed, inline) = match policies(aws, name).await {
                Err(e) if e.is_not_found() => continue,
                other => other?,
            };
            found.push(Observed {
                key,
                id: name.into(),
                name: name.into(),
                state: State::Role {
                    path: role.path().into(),
                    trust_policy: decode(role.assume_role_policy_document().unwrap_or_default()),
                    managed,
                    inline,
                },
            });
        }
    }
    Ok(found)
}

/// A role's managed policy ARNs and inline policies (name, document).
async fn policies(aws: &Aws, name: &str) -> Result<(Vec<String>, Vec<(String, String)>), AwsError> {
    let managed = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .ctx("list policies of role", name)?;
    let managed = managed
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    let inline_names = aws
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .ctx("list inline policies of role", name)?;
    let mut inline = Vec::new();
    for policy in inline_names.policy_names() {
        let doc = aws
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .ctx("get inline policy of role", name)?;
        inline.push((policy.clone(), decode(doc.policy_document())));
    }
    Ok((managed, inline))
}

/// Which role of the stack a role name is (the inverse of `Names`).
fn key_of(names: &Names, role: &str) -> Option<Key> {
    if role == names.execution_role() {
        return Some(crate::plan::desired::execution_role());
    }
    let prefix = names.task_role("");
    let service = role
        .strip_suffix("-task")?
        .strip_prefix(prefix.strip_suffix("-task")?)?;
    (names.task_role(service) == role).then(|| crate::plan::desired::task_role(service))
}

/// IAM returns policy documents URL-encoded.
fn decode(doc: &str) -> String {
    let mut out = Vec::with_capacity(doc.len());
    let b = doc.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| doc.to_string())
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    path: &str,
    trust: &str,
) -> Result<String, AwsError> {
    let tags: Vec<Tag> = super::tags(names, &key.0, name)?;
    let created = aws
        .iam
        .create_role()
        .role_name(name)
        .path(path)
        .assume_role_policy_document(trust)
        .description(format!("stackctl {}/{}", names.stack, names.env))
        .set_tags(Some(tags))
        .send()
        .await
        .ctx("create IAM role", name);
    match created {
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(name.into()),
    }
}

/// The service principal of ECS's service-linked role, `AWSServiceRoleForECS`.
pub const ECS_SERVICE: &str = "ecs.amazonaws.com";

/// Makes sure the account has the service-linked role of `service`: a brand-new account has
/// none until something creates it, and ECS refuses the first CreateCluster/CreateService
/// without it (ECS developer guide, "Using service-linked roles for Amazon ECS"). Shared by
/// the whole account and never deleted by `down`. AWS says the name "has been taken" when it
/// exists already; that is success.
pub async fn ensure_service_linked_role(aws: &Aws, service: &str) -> Result<(), AwsError> {
    let created = aws
        .iam
        .create_service_linked_role()
        .aws_service_name(service)
        .send()
        .await
        .ctx("create service-linked role for", service);
    match created {
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(()),
    }
}

/// ECS's refusal while the account's service-linked role is missing or not usable yet.
pub fn is_service_linked_role_pending(e: &AwsError) -> bool {
    e.message
        .to_ascii_lowercase()
        .contains("unable to assume the service linked role")
}

pub async fn update_trust(aws: &Aws, name: &str, trust: &str) -> Result<(), AwsError> {
    aws.iam
        .update_assume_role_policy()
        .role_name(name)
        .policy_document(trust)
        .send()
        .await
        .ctx("update trust policy of role", name)?;
    Ok(())
}

pub async fn attach(aws: &Aws, name: &str, arn: &str) -> Result<(), AwsError> {
    aws.iam
        .attach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .ctx("attach policy to role", name)?;
    Ok(())
}

pub async fn detach(aws: &Aws, name: &str, arn: &str) -> Result<(), AwsError> {
    aws.iam
        .detach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .ctx("detach policy from role", name)
        .ok_if_not_found()?;
    Ok(())
}

pub async fn put_inline(aws: &Aws, name: &str, policy: &str, doc: &str) -> Result<(), AwsError> {
    aws.iam
        .put_role_policy()
        .role_name(name)
        .policy_name(policy)
        .policy_document(doc)
        .send()
        .await
        .ctx("put inline policy on role", name)?;
    Ok(())
}

pub async fn delete_inline(aws: &Aws, name: &str, policy: &str) -> Result<(), AwsError> {
    aws.iam
        .delete_role_policy()
        .role_name(name)
        .policy_name(policy)
        .send()
        .await
        .ctx("delete inline policy of role", name)
        .ok_if_not_found()?;
    Ok(())
}

/// IAM refuses to delete a role with policies: detach and delete those first.
pub async fn delete(
    aws: &Aws,
    name: &str,
    managed: &[String],
    inline: &[(String, String)],
) -> Result<(), AwsError> {
    for arn in managed {
        detach(aws, name, arn).await?;
    }
    for (policy, _) in inline {
        delete_inline(aws, name, policy).await?;
    }
    aws.iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .ctx("delete IAM role", name)
        .ok_if_not_found()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_policy_documents() {
        assert_eq!(decode("%7B%22a%22%3A%20%22b%2Fc%22%7D"), r#"{"a": "b/c"}"#);
        assert_eq!(decode(r#"{"plain":1}"#), r#"{"plain":1}"#);
        assert_eq!(decode("50%"), "50%");
    }

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
        assert_eq!(key_of(&n, "someone-else"), None);
    }
}
