//! Route tables: the public one (0.0.0.0/0 → internet gateway) of the public subnets, and
//! the private one (no route out of the VPC) of the database's subnets.

use aws_sdk_ec2::types::{ResourceType};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, NETWORK, NEW_NETWORK, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, Outcome, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// A route table: with a gateway, the default route to it; without, only the VPC's own range.
pub struct RouteTable;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub vpc: Key,
    /// `None`: private, no route out.
    pub gateway: Option<Key>,
    pub subnets: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub vpc_id: String,
    /// (destination, target)
    pub routes: Vec<(String, String)>,
    /// (association id, subnet id)
    pub associations: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    AddRoute {
        destination: String,
    },
    ReplaceRoute {
        destination: String,
    },
    DeleteRoute {
        destination: String,
    },
    Associate {
        subnet: Key,
    },
    Disassociate {
        association: String,
        subnet_id: String,
    },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::AddRoute { destination } => {
                write!(f, "add route {destination} → internet gateway")
            }
            Fix::ReplaceRoute { destination } => {
                write!(f, "point route {destination} at the internet gateway")
            }
            Fix::DeleteRoute { destination } => write!(f, "delete route {destination}"),
            Fix::Associate { subnet } => write!(f, "associate {subnet}"),
            Fix::Disassociate { subnet_id, .. } => write!(f, "disassociate {subnet_id}"),
        }
    }
}

impl Resource for RouteTable {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ec2:DescribeRouteTables", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:CreateRouteTable", Scope::New("CreatingTheStacksNetwork", NEW_NETWORK), &[Up]),
            ("ec2:CreateRouteTable", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:CreateRoute", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:ReplaceRoute", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DeleteRoute", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:AssociateRouteTable", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DisassociateRouteTable", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up, Down]),
            ("ec2:DeleteRouteTable", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = vec![spec.vpc.clone()];
        d.extend(spec.gateway.iter().cloned());
        d.extend(spec.subnets.iter().cloned());
        d
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(other, Kind::Vpc | Kind::Subnet | Kind::InternetGateway)
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let mut fixes = Vec::new();
        let destination = DEFAULT_ROUTE.to_string();
        let route = have.routes.iter().find(|(d, _)| d == DEFAULT_ROUTE);
        match (&want.gateway, route) {
            (Some(_), None) => fixes.push(Fix::AddRoute { destination }),
            (Some(gw), Some((_, target))) if ids.get(gw) != Some(target) => {
                fixes.push(Fix::ReplaceRoute { destination })
            }
            (None, Some(_)) => fixes.push(Fix::DeleteRoute { destination }),
            _ => {}
        }
        let wanted: Vec<Option<&String>> = want.subnets.iter().map(|s| ids.get(s)).collect();
        for (subnet, id) in want.subnets.iter().zip(&wanted) {
            if id.is_none_or(|id| !have.associations.iter().any(|(_, s)| s == id)) {
                fixes.push(Fix::Associate {
                    subnet: subnet.clone(),
                });
            }
        }
        for (association, subnet_id) in &have.associations {
            if !wanted.iter().flatten().any(|w| *w == subnet_id) {
                fixes.push(Fix::Disassociate {
                    association: association.clone(),
                    subnet_id: subnet_id.clone(),
                });
            }
        }
        Ok(fixes)
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        let routes: Vec<Value> = spec
            .gateway
            .iter()
            .map(|g| json!({ "destination": DEFAULT_ROUTE, "gateway": g }))
            .collect();
        json!({ "gateway": null, "routes": routes })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            vpc_id: id(&spec.vpc),
            routes: spec
                .gateway
                .iter()
                .map(|g| (DEFAULT_ROUTE.into(), id(g)))
                .collect(),
            associations: spec
                .subnets
                .iter()
                .map(|s| (format!("assoc-{}", id(s)), id(s)))
                .collect(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let subnets = cx.ids_of(&spec.subnets)?;
        let vpc = cx.id(&spec.vpc)?;
        let gateway = spec.gateway.as_ref().map(|g| cx.id(g)).transpose()?;
        create(cx.aws, cx.names, key, name, &vpc, gateway.as_deref(), &subnets).await
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        let (aws, id) = (cx.aws, have.id.as_str());
        match fix {
            Fix::AddRoute { .. } => add_route(aws, id, &gateway(cx, want)?, false).await,
            Fix::ReplaceRoute { .. } => add_route(aws, id, &gateway(cx, want)?, true).await,
            Fix::DeleteRoute { destination } => delete_route(aws, id, destination).await,
            Fix::Associate { subnet } => associate(aws, id, &cx.id(subnet)?).await,
            Fix::Disassociate { association, .. } => disassociate(aws, association).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id, &state.associations).await
    }
}

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

fn gateway(cx: &Cx<'_>, want: &Spec) -> Result<String, AwsError> {
    match &want.gateway {
        Some(g) => cx.id(g),
        None => Err(AwsError::new("route", "private route table", "it has no gateway")),
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = super::describe_owned!(aws, names, describe_route_tables, "route tables")?;
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
                name: super::ec2_name_tag(t.tags()).unwrap_or_else(|| names.route_table()),
                state: plan::State::RouteTable(State {
                    vpc_id: t.vpc_id().unwrap_or_default().into(),
                    routes,
                    associations,
                }),
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
    name: &str,
    vpc_id: &str,
    gateway_id: Option<&str>,
    subnet_ids: &[String],
) -> Result<String, AwsError> {
    let tags = super::tags::ec2_spec(names, &key.0, name, ResourceType::RouteTable)?;
    let req = aws
        .ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tags)
        .client_token(once::client_token());
    let id = once::create(
        "create route table",
        name,
        key,
        once::attempt!(req, once::ec2_no_retry()),
        |out| {
            out.route_table()
                .and_then(|t| t.route_table_id())
                .map(str::to_string)
        },
        || find(aws, names),
    )
    .await?;
    if let Some(gateway_id) = gateway_id {
        add_route(aws, &id, gateway_id, false).await?;
    }
    for subnet in subnet_ids {
        associate(aws, &id, subnet).await?;
    }
    Ok(id)
}

pub async fn delete_route(aws: &Aws, id: &str, destination: &str) -> Result<(), AwsError> {
    aws.ec2
        .delete_route()
        .route_table_id(id)
        .destination_cidr_block(destination)
        .send()
        .await
        .ctx("delete route of", id)
        .ok_if_not_found()?;
    Ok(())
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
