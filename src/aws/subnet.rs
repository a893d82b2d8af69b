//! Public subnets, one per availability zone, public IPs on launch (no NAT gateway).

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, TagSpecification};

use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_owner_filters, ec2_resource_tag, ec2_tags};
use crate::names::Names;
use crate::plan::{Key, Observed, State};

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = aws
        .ec2
        .describe_subnets()
        .set_filters(Some(ec2_owner_filters(names)))
        .send()
        .await
        .ctx("describe", "subnets")?;
    let mut found: Vec<Observed> = out
        .subnets()
        .iter()
        .filter_map(|s| {
            let key = ec2_resource_tag(s.tags())?;
            let name = s
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value())
                .unwrap_or_default();
            Some(Observed {
                key: Key(key),
                id: s.subnet_id()?.into(),
                name: name.into(),
                state: State::Subnet {
                    cidr: s.cidr_block().unwrap_or_default().into(),
                    az: s.availability_zone().unwrap_or_default().into(),
                    vpc_id: s.vpc_id().unwrap_or_default().into(),
                    public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                },
            })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// Zones that can host subnets, in name order.
pub async fn zones(aws: &Aws) -> Result<Vec<String>, AwsError> {
    let out = aws
        .ec2
        .describe_availability_zones()
        .send()
        .await
        .ctx("describe", "availability zones")?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    Ok(zones)
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    cidr: &str,
    az: &str,
    vpc_id: &str,
) -> Result<String, AwsError> {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Subnet)
        .set_tags(Some(ec2_tags(&names.tags(&key.0, name))))
        .build();
    let out = aws
        .ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tags)
        .send()
        .await
        .ctx("create subnet", name)?;
    let id = out
        .subnet()
        .and_then(|s| s.subnet_id())
        .ok_or_else(|| AwsError::new("create subnet", name, "no id in response"))?
        .to_string();
    map_public_ip(aws, &id).await?;
    Ok(id)
}

pub async fn map_public_ip(aws: &Aws, id: &str) -> Result<(), AwsError> {
    let req = aws
        .ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build());
    retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("modify subnet", id)
    })
    .await?;
    Ok(())
}

pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.ec2
            .delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .ctx("delete subnet", id)
    })
    .await
}
