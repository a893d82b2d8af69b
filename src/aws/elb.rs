//! Helpers shared by the load balancer, target group and listener modules.

use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;

use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx};
use crate::names::{Names, TAG_RESOURCE};

async fn describe(aws: &Aws, arns: &[String]) -> Result<DescribeTagsOutput, AwsError> {
    aws.elb
        .describe_tags()
        .set_resource_arns(Some(arns.to_vec()))
        .send()
        .await
        .ctx("describe tags of", "load balancing resources")
}

/// `stackctl:resource` of each ARN that carries this stack's tags (one call per 20 ARNs).
pub async fn owned(
    aws: &Aws,
    names: &Names,
    arns: &[String],
) -> Result<Vec<(String, String)>, AwsError> {
    let mut found = Vec::new();
    for chunk in arns.chunks(20) {
        match describe(aws, chunk).await {
            Ok(out) => found.push(out),
            // One ARN of the chunk is not visible (just created, or deleted meanwhile):
            // ask one by one, waiting briefly for the new ones, skipping the gone ones.
            Err(e) if e.is_not_found() => {
                for arn in chunk {
                    let one = std::slice::from_ref(arn);
                    match retry(Backoff::PROPAGATION, AwsError::is_not_found, || {
                        describe(aws, one)
                    })
                    .await
                    {
                        Ok(out) => found.push(out),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut out = Vec::new();
    for d in found.iter().flat_map(|t| t.tag_descriptions()) {
        let get = |k: &str| {
            d.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
        };
        let pairs = d.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)));
        if names.owns(pairs)
            && let (Some(arn), Some(key)) = (d.resource_arn(), get(TAG_RESOURCE))
        {
            out.push((arn.to_string(), key.to_string()));
        }
    }
    Ok(out)
}
