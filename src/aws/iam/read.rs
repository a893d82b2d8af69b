//! Reading a role's policies back, as the diff compares them.

use crate::aws::{Aws, AwsError, Ctx, Outcome};

/// A role's managed policy ARNs, inline policies (name, document) and permissions boundary.
pub(super) async fn policies(
    aws: &Aws,
    name: &str,
) -> Result<(Vec<String>, Vec<(String, String)>, Option<String>), AwsError> {
    let role = aws
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .ctx("get IAM role", name)?;
    let boundary = role
        .role()
        .and_then(|r| r.permissions_boundary())
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string);
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
    Ok((managed, inline, boundary))
}

/// Sets (or, with None, removes) a role's permissions boundary.
pub(super) async fn set_boundary(aws: &Aws, name: &str, arn: Option<&str>) -> Result<(), AwsError> {
    match arn {
        Some(arn) => {
            aws.iam
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(arn)
                .send()
                .await
                .ctx("set the permissions boundary of role", name)?;
        }
        None => {
            aws.iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .ctx("remove the permissions boundary of role", name)
                .ok_if_not_found()?;
        }
    }
    Ok(())
}

/// IAM returns policy documents URL-encoded.
pub(crate) fn decode(doc: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_policy_documents() {
        assert_eq!(decode("%7B%22a%22%3A%20%22b%2Fc%22%7D"), r#"{"a": "b/c"}"#);
        assert_eq!(decode(r#"{"plain":1}"#), r#"{"plain":1}"#);
        assert_eq!(decode("50%"), "50%");
    }
}
