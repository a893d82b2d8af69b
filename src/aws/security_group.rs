//! Security groups: the load balancer's (web from anywhere) and one per service (its port,
//! from the load balancer's group only). Egress stays AWS's default (all).

use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, ResourceType, UserIdGroupPair,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, NETWORK, NEW_NETWORK, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx, Outcome, ec2_resource_tag, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, Peer, Rule, desired};

/// A security group: the load balancer's, open to the internet on its port, and each service's, open to the load balancer only.
pub struct SecurityGroup;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub vpc: Key,
    pub description: String,
    pub ingress: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub vpc_id: String,
    pub ingress: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    Authorize { rule: Rule },
    Revoke { rule: Rule },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::Authorize { rule } => write!(f, "allow {rule}"),
            Fix::Revoke { rule } => write!(f, "revoke {rule}"),
        }
    }
}

impl Resource for SecurityGroup {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ec2:DescribeSecurityGroups", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("ec2:CreateSecurityGroup", Scope::New("CreatingTheStacksNetwork", NEW_NETWORK), &[Up]),
            ("ec2:CreateSecurityGroup", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:AuthorizeSecurityGroupIngress", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:RevokeSecurityGroupIngress", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up]),
            ("ec2:DeleteSecurityGroup", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = vec![spec.vpc.clone()];
        d.extend(spec.ingress.iter().filter_map(|r| match &r.peer {
            Peer::Group(k) => Some(k.clone()),
            Peer::Cidr4(_) | Peer::Cidr6(_) | Peer::GroupId(_) => None,
        }));
        d
    }

    /// A group whose rules name another group goes first (AWS refuses to delete a group
    /// referenced by another's rules): service groups name the load balancer's, the
    /// database's names the services'.
    fn delete_before(first: &Key, other: Kind, then: &Key) -> bool {
        let referenced = then == &desired::alb_sg()
            || (first == &desired::db_sg() && then.0.starts_with(&desired::service_sg("").0));
        other == Kind::Vpc || (other == Kind::SecurityGroup && referenced && first != then)
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        // `None`: a group of the stack without an id yet.
        let resolve = |r: &Rule| r.resolved(|k| ids.get(k).cloned().ok_or(())).ok();
        let mut fixes = Vec::new();
        for rule in &want.ingress {
            if resolve(rule).is_none_or(|r| !have.ingress.contains(&r)) {
                fixes.push(Fix::Authorize { rule: rule.clone() });
            }
        }
        let wanted: Vec<Rule> = want.ingress.iter().filter_map(resolve).collect();
        for rule in &have.ingress {
            if !wanted.contains(rule) {
                fixes.push(Fix::Revoke { rule: rule.clone() });
            }
        }
        Ok(fixes)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({})
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        let resolved = |r: &Rule| {
            let Ok(r) = r.resolved(|k| Ok::<_, std::convert::Infallible>(id(k)));
            r
        };
        State {
            vpc_id: id(&spec.vpc),
            ingress: spec.ingress.iter().map(resolved).collect(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let vpc = cx.id(&spec.vpc)?;
        let id = create(cx.aws, cx.names, key, name, &spec.description, &vpc).await?;
        let rules = spec
            .ingress
            .iter()
            .map(|r| cx.resolved(r))
            .collect::<Result<Vec<_>, _>>()?;
        authorize(cx.aws, &id, &rules).await?;
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
            Fix::Authorize { rule } => authorize(cx.aws, &have.id, &[cx.resolved(rule)?]).await,
            Fix::Revoke { rule } => revoke(cx.aws, &have.id, &[cx.resolved(rule)?]).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let out = super::describe_owned!(aws, names, describe_security_groups, "security groups")?;
    let mut found: Vec<Observed> = out
        .security_groups()
        .iter()
        .filter_map(|g| {
            let mut ingress: Vec<Rule> = g.ip_permissions().iter().flat_map(rules_of).collect();
            ingress.sort();
            Some(Observed {
                key: Key(ec2_resource_tag(g.tags())?),
                id: g.group_id()?.into(),
                name: g.group_name().unwrap_or_default().into(),
                state: plan::State::SecurityGroup(State {
                    vpc_id: g.vpc_id().unwrap_or_default().into(),
                    ingress,
                }),
            })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// EC2 groups peers of one port range into one permission; we compare them one by one.
fn rules_of(p: &IpPermission) -> Vec<Rule> {
    let base = |peer| Rule {
        protocol: p.ip_protocol().unwrap_or("-1").into(),
        from: p.from_port().unwrap_or(-1),
        to: p.to_port().unwrap_or(-1),
        peer,
    };
    let mut out: Vec<Rule> = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .map(|c| base(Peer::Cidr4(c.into())))
        .collect();
    out.extend(
        p.ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6())
            .map(|c| base(Peer::Cidr6(c.into()))),
    );
    out.extend(
        p.user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id())
            .map(|g| base(Peer::GroupId(g.into()))),
    );
    out
}

/// The ingress permission of `rule`; a group of the stack must be resolved to its id first.
fn permission(rule: &Rule) -> IpPermission {
    let b = IpPermission::builder()
        .ip_protocol(&rule.protocol)
        .from_port(rule.from)
        .to_port(rule.to);
    match &rule.peer {
        Peer::Cidr4(c) => b.ip_ranges(IpRange::builder().cidr_ip(c).build()),
        Peer::Cidr6(c) => b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build()),
        Peer::GroupId(id) => b.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()),
        Peer::Group(_) => b.user_id_group_pairs(UserIdGroupPair::builder().build()),
    }
    .build()
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    description: &str,
    vpc_id: &str,
) -> Result<String, AwsError> {
    let tags = super::tags::ec2_spec(names, &key.0, name, ResourceType::SecurityGroup)?;
    let req = aws
        .ec2
        .create_security_group()
        .group_name(name)
        .description(description)
        .vpc_id(vpc_id)
        .tag_specifications(tags);
    once::create(
        "create security group",
        name,
        key,
        once::attempt!(req, once::ec2_no_retry()),
        |out| out.group_id().map(str::to_string),
        || find(aws, names),
    )
    .await
}

/// Adds ingress `rules` (their groups resolved to ids) to group `id`.
pub async fn authorize(aws: &Aws, id: &str, rules: &[Rule]) -> Result<(), AwsError> {
    let permissions: Vec<IpPermission> = rules.iter().map(permission).collect();
    if permissions.is_empty() {
        return Ok(());
    }
    let req = aws
        .ec2
        .authorize_security_group_ingress()
        .group_id(id)
        .set_ip_permissions(Some(permissions));
    let result = retry(Backoff::PROPAGATION, AwsError::is_not_found, || async {
        req.clone()
            .send()
            .await
            .ctx("allow ingress to security group", id)
    })
    .await;
    match result {
        // A rule that exists already is what we wanted.
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(()),
    }
}

pub async fn revoke(aws: &Aws, id: &str, rules: &[Rule]) -> Result<(), AwsError> {
    let permissions: Vec<IpPermission> = rules.iter().map(permission).collect();
    if permissions.is_empty() {
        return Ok(());
    }
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(id)
        .set_ip_permissions(Some(permissions))
        .send()
        .await
        .ctx("revoke ingress of security group", id)
        .ok_if_not_found()?;
    Ok(())
}

/// AWS refuses while a network interface or another group's rule still uses the group.
pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.ec2
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .ctx("delete security group", id)
    })
    .await
}
