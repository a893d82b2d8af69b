//! Internet gateway, attached to the stack's VPC.

use aws_sdk_ec2::types::{Filter, ResourceType};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, NETWORK, NEW_NETWORK, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// The internet gateway, attached to the stack's VPC.
pub struct InternetGateway;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub vpc: Key,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub attached_vpc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    AttachGateway,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::AttachGateway => write!(f, "attach to the VPC"),
        }
    }
}

impl Resource for InternetGateway {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ec2:DescribeInternetGateways", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:CreateInternetGateway", Scope::New("CreatingTheStacksNetwork", NEW_NETWORK), &[Up]),
            ("ec2:AttachInternetGateway", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DetachInternetGateway", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up, Down]),
            ("ec2:DeleteInternetGateway", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.vpc.clone()]
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        other == Kind::Vpc
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let attached = have.attached_vpc.as_ref();
        Ok(if attached.is_none() || attached != ids.get(&want.vpc) {
            vec![Fix::AttachGateway]
        } else {
            vec![]
        })
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({})
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            attached_vpc: Some(id(&spec.vpc)),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key, &cx.id(&spec.vpc)?).await
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        state: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::AttachGateway => {
                let vpc = cx.id(&want.vpc)?;
                attach(cx.aws, &have.id, state.attached_vpc.as_deref(), &vpc).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id, state.attached_vpc.as_deref()).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = super::describe_owned!(aws, names, describe_internet_gateways, "internet gateways")?;
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
                state: plan::State::InternetGateway(State {
                    attached_vpc: attached,
                }),
            })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

pub async fn create(aws: &Aws, names: &Names, key: &Key, vpc_id: &str) -> Result<String, AwsError> {
    let name = names.internet_gateway();
    let tags = super::tags::ec2_spec(names, &key.0, &name, ResourceType::InternetGateway)?;
    let req = aws.ec2.create_internet_gateway().tag_specifications(tags);
    let id = once::create(
        "create internet gateway",
        &name,
        key,
        once::attempt!(req, once::ec2_no_retry()),
        |out| {
            out.internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .map(str::to_string)
        },
        || find(aws, names),
    )
    .await?;
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
    let attached = retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone().send().await.ctx("attach internet gateway", id)
    })
    .await;
    match attached {
        // A retry after a lost reply: done if it is attached to this VPC.
        Err(e) if e.is_already_exists() => {
            let f = |k: &str, v: &str| Filter::builder().name(k).values(v).build();
            let out = aws
                .ec2
                .describe_internet_gateways()
                .filters(f("internet-gateway-id", id))
                .filters(f("attachment.vpc-id", vpc_id))
                .send()
                .await
                .ctx("describe internet gateway", id)?;
            if out.internet_gateways().is_empty() {
                Err(e)
            } else {
                Ok(())
            }
        }
        r => r.map(|_| ()),
    }
}

async fn detach(aws: &Aws, id: &str, vpc_id: &str) -> Result<(), AwsError> {
    // Fails with DependencyViolation while public IPs (ALB, tasks) are still mapped; "not
    // attached" (a retry after a lost reply) is what we wanted.
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
