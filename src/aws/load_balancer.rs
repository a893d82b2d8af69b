//! The Application Load Balancer: internet-facing, in the stack's public subnets, behind the
//! load balancer's security group.

use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};

use super::retry::delete_draining;
use super::{Aws, AwsError, Ctx, elb, once};
use crate::names::Names;
use crate::plan::{Key, Observed, State};

pub const TYPE: LoadBalancerTypeEnum = LoadBalancerTypeEnum::Application;
pub const SCHEME: LoadBalancerSchemeEnum = LoadBalancerSchemeEnum::InternetFacing;
pub const IP_ADDRESS_TYPE: IpAddressType = IpAddressType::Ipv4;

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let name = names.load_balancer();
    let out = match aws
        .elb
        .describe_load_balancers()
        .names(&name)
        .send()
        .await
        .ctx("describe load balancer", &name)
    {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let arns: Vec<String> = out
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect();
    let owned = elb::owned(aws, names, &arns).await?;
    Ok(out
        .load_balancers()
        .iter()
        .filter_map(|lb| {
            let arn = lb.load_balancer_arn()?;
            let (_, key) = owned.iter().find(|(a, _)| a == arn)?;
            let mut subnets: Vec<String> = lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_string))
                .collect();
            subnets.sort();
            let mut groups = lb.security_groups().to_vec();
            groups.sort();
            Some(Observed {
                key: Key(key.clone()),
                id: arn.into(),
                name: name.clone(),
                state: State::LoadBalancer {
                    state: lb
                        .state()
                        .and_then(|s| s.code())
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    dns_name: lb.dns_name().unwrap_or_default().into(),
                    subnet_ids: subnets,
                    security_groups: groups,
                },
            })
        })
        .collect())
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    subnet_ids: &[String],
    group_id: &str,
) -> Result<String, AwsError> {
    let name = names.load_balancer();
    let req = aws
        .elb
        .create_load_balancer()
        .name(&name)
        .r#type(TYPE)
        .scheme(SCHEME)
        .ip_address_type(IP_ADDRESS_TYPE)
        .set_subnets(Some(subnet_ids.to_vec()))
        .security_groups(group_id)
        .set_tags(Some(super::tags(names, &key.0, &name)?));
    // A retry after a lost reply first looks for the load balancer that reply was about.
    once::create(
        "create load balancer",
        &name,
        key,
        || {
            req.clone()
                .customize()
                .config_override(once::elb_no_retry())
                .send()
        },
        |out| {
            out.load_balancers()
                .first()
                .and_then(|l| l.load_balancer_arn())
                .map(str::to_string)
        },
        || find(aws, names),
    )
    .await
}

pub async fn set_subnets(aws: &Aws, arn: &str, subnet_ids: &[String]) -> Result<(), AwsError> {
    aws.elb
        .set_subnets()
        .load_balancer_arn(arn)
        .set_subnets(Some(subnet_ids.to_vec()))
        .send()
        .await
        .ctx("set subnets of load balancer", arn)?;
    Ok(())
}

pub async fn set_security_group(aws: &Aws, arn: &str, group_id: &str) -> Result<(), AwsError> {
    aws.elb
        .set_security_groups()
        .load_balancer_arn(arn)
        .security_groups(group_id)
        .send()
        .await
        .ctx("set security groups of load balancer", arn)?;
    Ok(())
}

/// Its network interfaces linger for minutes after this returns (see `delete_draining`).
pub async fn delete(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.elb
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .ctx("delete load balancer", arn)
    })
    .await
}

/// The DNS name clients use, once AWS reports it.
pub async fn dns_name(aws: &Aws, arn: &str) -> Result<Option<String>, AwsError> {
    let out = aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .ctx("describe load balancer", arn)?;
    Ok(out
        .load_balancers()
        .first()
        .and_then(|l| l.dns_name())
        .map(str::to_string))
}
