//! Writing the stack's roles: each IAM call `up` and `down` make on a role.

use aws_sdk_iam::types::Tag;

use super::Spec;
use crate::aws::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::Key;

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    spec: &Spec,
) -> Result<String, AwsError> {
    let tags: Vec<Tag> = crate::aws::tags(names, &key.0, name)?;
    let created = aws
        .iam
        .create_role()
        .role_name(name)
        .path(&spec.path)
        .assume_role_policy_document(&spec.trust_policy)
        .set_permissions_boundary(spec.boundary.clone())
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

