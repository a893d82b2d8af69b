//! Subnets, one per availability zone: public ones (public IPs on launch, no NAT gateway) for
//! the load balancer and tasks; private ones (no public IPs) for the database.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, NETWORK, NEW_NETWORK, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::zones::Zone;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// A subnet. Public: public IPs on launch, so tasks reach ECR and the internet without a NAT
/// gateway. Private: no public IPs and no route out (the database's).
pub struct Subnet;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub cidr: String,
    /// Empty: placed by the planner's zone choice.
    pub az: String,
    pub vpc: Key,
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub cidr: String,
    pub az: String,
    pub vpc_id: String,
    pub public_ip_on_launch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    MapPublicIp,
    NoPublicIp,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::MapPublicIp => write!(f, "assign public IPs on launch"),
            Fix::NoPublicIp => write!(f, "stop assigning public IPs on launch"),
        }
    }
}

impl Resource for Subnet {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ec2:DescribeAvailabilityZones", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:DescribeSubnets", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:CreateSubnet", Scope::New("CreatingTheStacksNetwork", NEW_NETWORK), &[Up]),
            // ...in the stack's VPC.
            ("ec2:CreateSubnet", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:ModifySubnetAttribute", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DeleteSubnet", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.vpc.clone()]
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Vpc
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let moved = ids.get(&want.vpc).is_some_and(|v| v != &have.vpc_id);
        if want.cidr != have.cidr || (!want.az.is_empty() && want.az != have.az) || moved {
            return Err(format!(
                "subnet is {} in {}, stack.yaml wants {} in {}; subnets cannot move: run `stackctl down` first",
                have.cidr, have.az, want.cidr, want.az
            ));
        }
        Ok(match (want.public, have.public_ip_on_launch) {
            (true, false) => vec![Fix::MapPublicIp],
            (false, true) => vec![Fix::NoPublicIp],
            _ => vec![],
        })
    }

    fn summary(have: &State) -> String {
        format!("{} in {}", have.cidr, have.az)
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        json!({ "map_public_ip_on_launch": spec.public, "public": null })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            cidr: spec.cidr.clone(),
            az: spec.az.clone(),
            vpc_id: id(&spec.vpc),
            public_ip_on_launch: spec.public,
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let vpc = cx.id(&spec.vpc)?;
        let id = create(cx.aws, cx.names, key, name, &spec.cidr, &spec.az, &vpc).await?;
        if spec.public {
            map_public_ip(cx.aws, &id, true).await?;
        }
        Ok(id)
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::MapPublicIp => map_public_ip(cx.aws, &have.id, true).await,
            Fix::NoPublicIp => map_public_ip(cx.aws, &have.id, false).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = super::describe_owned!(aws, names, describe_subnets, "subnets")?;
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
                state: plan::State::Subnet(State {
                    cidr: s.cidr_block().unwrap_or_default().into(),
                    az: s.availability_zone().unwrap_or_default().into(),
                    vpc_id: s.vpc_id().unwrap_or_default().into(),
                    public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                }),
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
    let tags = super::tags::ec2_spec(names, &key.0, name, ResourceType::Subnet)?;
    let req = aws
        .ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tags);
    once::create(
        "create subnet",
        name,
        key,
        once::attempt!(req, once::ec2_no_retry()),
        |out| out.subnet().and_then(|s| s.subnet_id()).map(str::to_string),
        || find(aws, names),
    )
    .await
}

pub async fn map_public_ip(aws: &Aws, id: &str, on: bool) -> Result<(), AwsError> {
    let req = aws
        .ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build());
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
