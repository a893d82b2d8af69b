//! The Application Load Balancer: internet-facing, in the stack's public subnets, behind the
//! load balancer's security group.

use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::listener;
use super::permissions::{Cmd, LOAD_BALANCER, Permission, Scope};
use super::retry::delete_draining;
use super::{Aws, AwsError, Ctx, elb, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};
use crate::cost;

/// The internet-facing Application Load Balancer in the public subnets.
pub struct LoadBalancer;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub subnets: Vec<Key>,
    pub security_group: Key,
    /// An internet-facing load balancer is refused in a VPC without an attached
    /// internet gateway (`InvalidSubnet`): created after the gateway's attachment.
    pub gateway: Key,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub state: String,
    pub dns_name: String,
    pub subnet_ids: Vec<String>,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetSubnets { subnets: Vec<Key> },
    SetSecurityGroup { group: Key },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetSubnets { .. } => write!(f, "place in the stack's public subnets"),
            Fix::SetSecurityGroup { group } => write!(f, "use security group {group}"),
        }
    }
}

impl Resource for LoadBalancer {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("elasticloadbalancing:DescribeLoadBalancers", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("elasticloadbalancing:CreateLoadBalancer", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
            ("elasticloadbalancing:SetSubnets", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
            ("elasticloadbalancing:SetSecurityGroups", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
            ("elasticloadbalancing:DeleteLoadBalancer", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = spec.subnets.clone();
        d.extend([spec.security_group.clone(), spec.gateway.clone()]);
        d
    }

    /// It holds network interfaces and public IPs in these.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        use Kind::*;
        matches!(other, Subnet | SecurityGroup | InternetGateway | Vpc)
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let mut fixes = Vec::new();
        let mut subnets: Vec<Option<&String>> = want.subnets.iter().map(|s| ids.get(s)).collect();
        subnets.sort();
        if subnets.iter().any(Option::is_none)
            || subnets.into_iter().flatten().collect::<Vec<_>>()
                != have.subnet_ids.iter().collect::<Vec<_>>()
        {
            fixes.push(Fix::SetSubnets {
                subnets: want.subnets.clone(),
            });
        }
        if ids
            .get(&want.security_group)
            .is_none_or(|g| have.security_groups != [g.clone()])
        {
            fixes.push(Fix::SetSecurityGroup {
                group: want.security_group.clone(),
            });
        }
        Ok(fixes)
    }

    fn summary(have: &State) -> String {
        format!("{} {}", have.state, have.dns_name)
    }

    fn usage(_: &Key, spec: &Spec, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(spec.subnets.len(), &i.assumptions)
    }

    fn usage_now(_: &Key, have: &State, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(have.subnet_ids.len(), &i.assumptions)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "type": TYPE.as_str(),
            "scheme": SCHEME.as_str(),
            "ip_address_type": IP_ADDRESS_TYPE.as_str(),
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        let mut subnet_ids: Vec<String> = spec.subnets.iter().map(id).collect();
        subnet_ids.sort();
        State {
            state: "active".into(),
            dns_name: "lb.example".into(),
            subnet_ids,
            security_groups: vec![id(&spec.security_group)],
        }
    }

    /// With its listeners and their rules, which are listed per load balancer.
    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let lbs = find(aws, names).await?;
        let arn = lbs.first().map(|l| l.id.as_str());
        let listeners = listener::find(aws, names, arn).await?;
        let arns: Vec<(Key, String)> = listeners.iter().map(|l| (l.key.clone(), l.id.clone())).collect();
        let routes = super::routes::find(aws, names, &arns).await?;
        Ok([lbs, listeners, routes].concat())
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        let subnets = cx.ids_of(&spec.subnets)?;
        create(
            cx.aws,
            cx.names,
            key,
            &subnets,
            &cx.id(&spec.security_group)?,
        )
        .await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetSubnets { subnets } => {
                set_subnets(cx.aws, &have.id, &cx.ids_of(subnets)?).await
            }
            Fix::SetSecurityGroup { group } => {
                set_security_group(cx.aws, &have.id, &cx.id(group)?).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

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
                state: plan::State::LoadBalancer(State {
                    state: lb
                        .state()
                        .and_then(|s| s.code())
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    dns_name: lb.dns_name().unwrap_or_default().into(),
                    subnet_ids: subnets,
                    security_groups: groups,
                }),
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
        once::attempt!(req, once::elb_no_retry()),
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

/// Its hours, its capacity units and a public address per zone: an internet-facing load
/// balancer has a node in each of its subnets, each with a public IPv4 address (billed since
/// February 2024, VPC pricing page).
fn billed(zones: usize, a: &cost::Assumptions) -> Vec<cost::Usage> {
    use cost::{Meter, Usage, fmt_num};
    let h = fmt_num(a.hours);
    vec![
        Usage::new(Meter::AlbHours, a.hours, format!("1 load balancer × {h} h")),
        Usage::new(
            Meter::AlbLcuHours,
            a.lcu * a.hours,
            format!("{} LCU × {h} h (assumed)", fmt_num(a.lcu)),
        ),
        Usage::new(
            Meter::PublicIpv4Hours,
            zones as f64 * a.hours,
            format!("{zones} public IPv4 (a node per zone) × {h} h"),
        ),
    ]
}
