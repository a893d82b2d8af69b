//! VPC: found by the stack's tags; DNS support and hostnames on.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, NETWORK, NEW_VPC, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// The stack's VPC, DNS support and hostnames on (tasks resolve AWS endpoints by name).
pub struct Vpc;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub cidr: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub cidr: String,
    pub dns_hostnames: bool,
    pub dns_support: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    EnableDnsHostnames,
    EnableDnsSupport,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::EnableDnsHostnames => write!(f, "enable DNS hostnames"),
            Fix::EnableDnsSupport => write!(f, "enable DNS support"),
        }
    }
}

impl Resource for Vpc {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ec2:DescribeVpcs", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:DescribeVpcAttribute", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:CreateVpc", Scope::New("CreatingTheStacksVpc", NEW_VPC), &[Up]),
            ("ec2:ModifyVpcAttribute", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DeleteVpc", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    /// Deleted last: everything else of the network is in it.
    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if want.cidr != have.cidr {
            return Err(format!(
                "CIDR is {}, stack.yaml says {}; a VPC's CIDR cannot change: run `stackctl down` first",
                have.cidr, want.cidr
            ));
        }
        let mut fixes = Vec::new();
        if !have.dns_support {
            fixes.push(Fix::EnableDnsSupport);
        }
        if !have.dns_hostnames {
            fixes.push(Fix::EnableDnsHostnames);
        }
        Ok(fixes)
    }

    fn summary(have: &State) -> String {
        have.cidr.clone()
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({ "enable_dns_hostnames": true })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            cidr: spec.cidr.clone(),
            dns_hostnames: true,
            dns_support: true,
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key, &spec.cidr).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::EnableDnsHostnames => enable_dns_hostnames(cx.aws, &have.id).await,
            Fix::EnableDnsSupport => enable_dns_support(cx.aws, &have.id).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = super::describe_owned!(aws, names, describe_vpcs, "VPCs")?;
    let mut found = Vec::new();
    for v in out.vpcs() {
        let (Some(id), Some(key)) = (v.vpc_id(), ec2_resource_tag(v.tags())) else {
            continue;
        };
        let hostnames = attribute(aws, id, VpcAttributeName::EnableDnsHostnames).await?;
        let support = attribute(aws, id, VpcAttributeName::EnableDnsSupport).await?;
        found.push(Observed {
            key: Key(key),
            id: id.into(),
            name: names.vpc(),
            state: plan::State::Vpc(State {
                cidr: v.cidr_block().unwrap_or_default().into(),
                dns_hostnames: hostnames,
                dns_support: support,
            }),
        });
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

async fn attribute(aws: &Aws, id: &str, attr: VpcAttributeName) -> Result<bool, AwsError> {
    let out = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attr.clone())
        .send()
        .await
        .ctx("describe attribute of VPC", id)?;
    let value = match attr {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

pub async fn create(aws: &Aws, names: &Names, key: &Key, cidr: &str) -> Result<String, AwsError> {
    let tags = super::tags::ec2_spec(names, &key.0, &names.vpc(), ResourceType::Vpc)?;
    let req = aws
        .ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tags);
    let id = once::create(
        "create VPC",
        &names.vpc(),
        key,
        once::attempt!(req, once::ec2_no_retry()),
        |out| out.vpc().and_then(|v| v.vpc_id()).map(str::to_string),
        || find(aws, names),
    )
    .await?;
    enable(aws, &id, VpcAttributeName::EnableDnsHostnames).await?;
    Ok(id)
}

pub async fn enable_dns_hostnames(aws: &Aws, id: &str) -> Result<(), AwsError> {
    enable(aws, id, VpcAttributeName::EnableDnsHostnames).await
}

pub async fn enable_dns_support(aws: &Aws, id: &str) -> Result<(), AwsError> {
    enable(aws, id, VpcAttributeName::EnableDnsSupport).await
}

/// One attribute per call: EC2 rejects both in one request.
async fn enable(aws: &Aws, id: &str, attr: VpcAttributeName) -> Result<(), AwsError> {
    let on = AttributeBooleanValue::builder().value(true).build();
    let req = aws.ec2.modify_vpc_attribute().vpc_id(id);
    let req = match attr {
        VpcAttributeName::EnableDnsHostnames => req.enable_dns_hostnames(on),
        _ => req.enable_dns_support(on),
    };
    // A just-created VPC may not be visible to the next call yet.
    retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("modify attribute of VPC", id)
    })
    .await?;
    Ok(())
}

pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.ec2
            .delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .ctx("delete VPC", id)
    })
    .await
}
