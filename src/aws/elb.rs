//! Helpers shared by the load balancer, target group and listener modules.

use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple,
};

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

/// The target groups a forward action sends to and their weights (a lone `TargetGroupArn`:
/// weight 1), sorted by ARN.
pub fn forwards(actions: &[Action]) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = Vec::new();
    for a in actions {
        let tuples = a
            .forward_config()
            .map(|f| f.target_groups())
            .unwrap_or_default();
        for t in tuples {
            if let Some(arn) = t.target_group_arn() {
                out.push((arn.to_string(), t.weight().unwrap_or(1)));
            }
        }
        if let Some(arn) = a.target_group_arn()
            && !out.iter().any(|(g, _)| g == arn)
        {
            out.push((arn.to_string(), 1));
        }
    }
    out.sort();
    out
}

/// Of `forwards`, the group that gets the most requests.
pub fn heaviest(forwards: &[(String, i32)]) -> Option<String> {
    forwards
        .iter()
        .max_by_key(|(_, w)| *w)
        .map(|(g, _)| g.clone())
}

/// Forward to `to`; with `other`, to both target groups, every request still to `to`: the
/// pair ECS moves the weights of during a blue/green, canary or linear deployment (ECS
/// Developer Guide, "Application Load Balancer resources for blue/green, linear, and canary
/// deployments": the production rule must forward to both).
pub fn forward(to: String, other: Option<String>) -> Action {
    let b = Action::builder().r#type(ActionTypeEnum::Forward);
    match other {
        None => b.target_group_arn(to).build(),
        Some(other) => {
            let tuple = |g: String, w| {
                TargetGroupTuple::builder()
                    .target_group_arn(g)
                    .weight(w)
                    .build()
            };
            let config = ForwardActionConfig::builder()
                .target_groups(tuple(to, 100))
                .target_groups(tuple(other, 0))
                .build();
            b.forward_config(config).build()
        }
    }
}
