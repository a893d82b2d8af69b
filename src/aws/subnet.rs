//! Public subnets, one per availability zone, public IPs on launch (no NAT gateway).

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, TagSpecification};

use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_owner_filters, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::zones::Zone;
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
/// The region's zones, as [`Zone`]s.
pub async fn zones(aws: &Aws) -> Result<Vec<Zone>, AwsError> {
    let out = aws
        .ec2
        .describe_availability_zones()
        .send()
        .await
        .ctx("describe", "availability zones")?;
    Ok(out
        .availability_zones()
        .iter()
        .filter_map(|z| {
            Some(Zone {
                name: z.zone_name()?.to_string(),
                id: z.zone_id().unwrap_or_default().to_string(),
                available: z.state().is_none_or(|s| s.as_str() == "available"),
                standard: z.zone_type().is_none_or(|t| t == "availability-zone")
                    && z.opt_in_status()
                        .is_none_or(|o| o.as_str() == "opt-in-not-required"),
            })
        })
        .collect())
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
        .set_tags(Some(super::tags(names, &key.0, name)?))
        .build();
    let req = aws
        .ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tags);
    let id = once::create(
        "create subnet",
        name,
        key,
        || {
            req.clone()
                .customize()
                .config_override(once::ec2_no_retry())
                .send()
        },
        |out| out.subnet().and_then(|s| s.subnet_id()).map(str::to_string),
        || find(aws, names),
    )
    .await?;
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
