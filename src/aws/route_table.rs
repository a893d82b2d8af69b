//! The public route table: 0.0.0.0/0 → internet gateway, associated with every subnet.

use aws_sdk_ec2::types::{ResourceType, TagSpecification};

use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, Outcome, ec2_owner_filters, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::{Key, Observed, State};

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = aws
        .ec2
        .describe_route_tables()
        .set_filters(Some(ec2_owner_filters(names)))
        .send()
        .await
        .ctx("describe", "route tables")?;
    let mut found: Vec<Observed> = out
        .route_tables()
        .iter()
        .filter_map(|t| {
            let routes = t
                .routes()
                .iter()
                .filter_map(|r| {
                    Some((
                        r.destination_cidr_block()?.to_string(),
                        r.gateway_id().unwrap_or("blackhole").to_string(),
                    ))
                })
                .filter(|(_, gw)| gw != "local")
                .collect();
            let associations = t
                .associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
                .filter_map(|a| {
                    Some((
                        a.route_table_association_id()?.to_string(),
                        a.subnet_id()?.to_string(),
                    ))
                })
                .collect();
            Some(Observed {
                key: Key(ec2_resource_tag(t.tags())?),
                id: t.route_table_id()?.into(),
                name: names.route_table(),
                state: State::RouteTable {
                    vpc_id: t.vpc_id().unwrap_or_default().into(),
                    routes,
                    associations,
                },
            })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    vpc_id: &str,
    gateway_id: &str,
    subnet_ids: &[String],
) -> Result<String, AwsError> {
    let name = names.route_table();
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::RouteTable)
        .set_tags(Some(super::tags(names, &key.0, &name)?))
        .build();
    let req = aws
        .ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tags)
        .client_token(once::client_token());
    let id = once::create(
        "create route table",
        &name,
        key,
        || {
            req.clone()
                .customize()
                .config_override(once::ec2_no_retry())
                .send()
        },
        |out| {
            out.route_table()
                .and_then(|t| t.route_table_id())
                .map(str::to_string)
        },
        || find(aws, names),
    )
    .await?;
    add_route(aws, &id, gateway_id, false).await?;
    for subnet in subnet_ids {
        associate(aws, &id, subnet).await?;
    }
    Ok(id)
}

pub async fn add_route(
    aws: &Aws,
    id: &str,
    gateway_id: &str,
    replace: bool,
) -> Result<(), AwsError> {
    if replace {
        aws.ec2
            .replace_route()
            .route_table_id(id)
            .destination_cidr_block(DEFAULT_ROUTE)
            .gateway_id(gateway_id)
            .send()
            .await
            .ctx("replace default route of", id)?;
        return Ok(());
    }
    let req = aws
        .ec2
        .create_route()
        .route_table_id(id)
        .destination_cidr_block(DEFAULT_ROUTE)
        .gateway_id(gateway_id);
    let added = retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("add default route to", id)
    })
    .await;
    match added {
        // A retry after a lost reply (a route to another target shows in the next plan).
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(()),
    }
}

pub async fn associate(aws: &Aws, id: &str, subnet_id: &str) -> Result<(), AwsError> {
    let req = aws
        .ec2
        .associate_route_table()
        .route_table_id(id)
        .subnet_id(subnet_id);
    let associated = retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("associate route table", id)
    })
    .await;
    match associated {
        // A retry after a lost reply: done if the subnet is associated with this table.
        Err(e) if e.is_already_exists() => {
            let filter = aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(subnet_id)
                .build();
            let tables = aws
                .ec2
                .describe_route_tables()
                .filters(filter)
                .send()
                .await
                .ctx("describe route tables of subnet", subnet_id)?;
            let ours = tables
                .route_tables()
                .iter()
                .any(|t| t.route_table_id() == Some(id));
            if ours { Ok(()) } else { Err(e) }
        }
        r => r.map(|_| ()),
    }
}

pub async fn disassociate(aws: &Aws, association_id: &str) -> Result<(), AwsError> {
    aws.ec2
        .disassociate_route_table()
        .association_id(association_id)
        .send()
        .await
        .ctx("disassociate route table", association_id)
        .ok_if_not_found()?;
    Ok(())
}

/// Subnets are disassociated first: AWS deletes neither while they are linked.
pub async fn delete(
    aws: &Aws,
    id: &str,
    associations: &[(String, String)],
) -> Result<(), AwsError> {
    for (assoc, _) in associations {
        disassociate(aws, assoc).await?;
    }
    delete_draining(|| async {
        aws.ec2
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .ctx("delete route table", id)
    })
    .await
}
