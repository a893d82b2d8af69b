//! Helpers shared by the load balancer, target group and listener modules.

use aws_sdk_elasticloadbalancingv2::types::Tag;

use super::{Aws, AwsError, Ctx};
use crate::names::{Names, TAG_ENV, TAG_RESOURCE, TAG_STACK};

pub fn tags(names: &Names, key: &str, name: &str) -> Vec<Tag> {
    names
        .tags(key, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// `stackctl:resource` of each ARN that carries this stack's tags (one call per 20 ARNs).
pub async fn owned(
    aws: &Aws,
    names: &Names,
    arns: &[String],
) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        let tags = aws
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .ctx("describe tags of", "load balancing resources")?;
        for d in tags.tag_descriptions() {
            let get = |k: &str| {
                d.tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
            };
            if get(TAG_STACK) == Some(names.stack.as_str())
                && get(TAG_ENV) == Some(names.env.as_str())
            {
                if let (Some(arn), Some(key)) = (d.resource_arn(), get(TAG_RESOURCE)) {
                    out.push((arn.to_string(), key.to_string()));
                }
            }
        }
    }
    Ok(out)
}
