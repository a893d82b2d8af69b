//! Internet gateway, attached to the stack's VPC.

use aws_sdk_ec2::types::{ResourceType, TagSpecification};

use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_owner_filters, ec2_resource_tag, ec2_tags};
use crate::names::Names;
use crate::plan::{Key, Observed, State};

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = aws
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(ec2_owner_filters(names)))
        .send()
        .await
        .ctx("describe", "internet gateways")?;
    let mut found: Vec<Observed> = out
        .internet_gateways()
        .iter()
        .filter_map(|g| {
            let attached = g
                .attachments()
                .iter()
                .find_map(|a| a.vpc_id())
                .map(str::to_string);
            Some(Observed {
                key: Key(ec2_resource_tag(g.tags())?),
                id: g.internet_gateway_id()?.into(),
                name: names.internet_gateway(),
                state: State::InternetGateway {
                    attached_vpc: attached,
                },
            })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

pub async fn create(aws: &Aws, names: &Names, key: &Key, vpc_id: &str) -> Result<String, AwsError> {
    let name = names.internet_gateway();
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::InternetGateway)
        .set_tags(Some(ec2_tags(&names.tags(&key.0, &name))))
        .build();
    let out = aws
        .ec2
        .create_internet_gateway()
        .tag_specifications(tags)
        .send()
        .await
        .ctx("create internet gateway", &name)?;
    let id = out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .ok_or_else(|| AwsError::new("create internet gateway", &name, "no id in response"))?
        .to_string();
    attach(aws, &id, None, vpc_id).await?;
    Ok(id)
}

/// Attach to `vpc_id`, detaching from `current` first if it is attached elsewhere.
pub async fn attach(
    aws: &Aws,
    id: &str,
    current: Option<&str>,
    vpc_id: &str,
) -> Result<(), AwsError> {
    if let Some(other) = current.filter(|c| *c != vpc_id) {
        detach(aws, id, other).await?;
    }
    let req = aws
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id);
    retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("attach internet gateway", id)
    })
    .await?;
    Ok(())
}

async fn detach(aws: &Aws, id: &str, vpc_id: &str) -> Result<(), AwsError> {
    // Fails with DependencyViolation while public IPs (ALB, tasks) are still mapped.
    delete_draining(|| async {
        aws.ec2
            .detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await
            .ctx("detach internet gateway", id)
    })
    .await
}

pub async fn delete(aws: &Aws, id: &str, attached: Option<&str>) -> Result<(), AwsError> {
    if let Some(vpc) = attached {
        detach(aws, id, vpc).await?;
    }
    delete_draining(|| async {
        aws.ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .ctx("delete internet gateway", id)
    })
    .await
}
