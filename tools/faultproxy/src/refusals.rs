//! What real AWS refuses (or answers differently) and moto accepts: not faults, the service's
//! own behaviour, so always on. A double that accepts what AWS refuses is a bug in the double.
//!
//! - CreateSecurityGroup named `sg-*` (EC2 API reference, CreateSecurityGroup: "Constraints:
//!   Cannot start with sg-").
//! - CreateLoadBalancer named `internal-*`, starting or ending with `-`, or over 32 characters
//!   (ELB API reference, CreateLoadBalancer `Name`); an internet-facing one in a VPC with no
//!   internet gateway attached (`InvalidSubnet`), or in a subnet smaller than /27 or with fewer
//!   than 8 free addresses (ALB user guide, "Subnets for your load balancer").
//! - CreateTargetGroup with the name of an existing group and the same settings returns that
//!   group and applies none of the new tags (ELB API reference: "If you attempt to create
//!   multiple target groups with the same settings, each call succeeds"); moto says
//!   `DuplicateTargetGroupName`.
//! - A brand-new account (`fresh_account`): ECS's CreateCluster/CreateService fail with
//!   "Unable to assume the service linked role" until `AWSServiceRoleForECS` exists and has
//!   propagated; creating it again says its name "has been taken"; ListRoles does not list
//!   it before it is created (`rewrite`).
//!
//! - CreateSubnet in the account's Local Zone (`zones`).
//!
//! The checks that need the account's state ask the upstream first (`Probe`).

use crate::classify::Call;
use crate::wire::AwsError;
use crate::world::{Ctx, World};
use crate::xml;

/// A question to ask the upstream (an EC2/ELB query) before deciding.
pub enum Probe<'a> {
    /// The subnets of an internet-facing CreateLoadBalancer.
    AlbSubnets(Vec<&'a str>),
    /// The existing target group of a CreateTargetGroup's name.
    TargetGroup(&'a str),
}

/// Refusals decided from the request alone (and what the proxy learned).
pub fn check(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if let Some(refused) = crate::zones::check(call) {
        return Some(refused);
    }
    let invalid = |code: &str, m: String| Some(AwsError::client(400, code, m));
    if call.is("ec2", "CreateSecurityGroup") {
        let name = call.param("GroupName")?;
        if name.to_ascii_lowercase().starts_with("sg-") {
            return invalid(
                "InvalidParameterValue",
                format!(
                    "Value ({name}) for parameter GroupName is invalid. Group names may not be in the format sg-*."
                ),
            );
        }
    }
    if call.is("elasticloadbalancing", "CreateLoadBalancer") {
        let name = call.param("Name")?;
        if let Some(why) = bad_elb_name(name) {
            return invalid(
                "ValidationError",
                format!("Load balancer name '{name}' {why}"),
            );
        }
    }
    if call.is("elasticloadbalancing", "CreateTargetGroup") {
        let name = call.param("Name")?;
        if let Some(why) = bad_elb_name(name) {
            return invalid(
                "ValidationError",
                format!("Target group name '{name}' {why}"),
            );
        }
    }
    if let Some(delay) = ctx.cfg.fresh_account {
        let ready = world.ecs_service_linked_role.map(|t| t + delay);
        if call.service == "ecs"
            && matches!(call.action.as_str(), "CreateCluster" | "CreateService")
            && ready.is_none_or(|t| ctx.now < t)
        {
            return invalid(
                "InvalidParameterException",
                "Unable to assume the service linked role. Please verify that the ECS service linked role exists.".into(),
            );
        }
        if call.is("iam", "CreateServiceLinkedRole")
            && call.param("AWSServiceName") == Some("ecs.amazonaws.com")
            && world.ecs_service_linked_role.is_some()
        {
            return invalid(
                "InvalidInput",
                "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.".into(),
            );
        }
    }
    None
}

/// In a fresh account, ListRoles lists no `AWSServiceRoleForECS` before this client made it
/// (moto may know it from another client): its entry is cut from the reply.
pub fn rewrite(call: &Call, body: &[u8], world: &World, ctx: &Ctx) -> Option<Vec<u8>> {
    ctx.cfg.fresh_account?;
    if !call.is("iam", "ListRoles") || world.ecs_service_linked_role.is_some() {
        return None;
    }
    let doc = std::str::from_utf8(body).ok()?;
    without_role(doc, "AWSServiceRoleForECS").map(String::into_bytes)
}

/// A ListRoles reply without the role `name`: its `member` runs to the next role's, or to
/// the end of `Roles`.
fn without_role(doc: &str, name: &str) -> Option<String> {
    let leaves = xml::leaves(doc);
    let mut roles = leaves
        .iter()
        .filter(|l| l.ends_with("Roles/member/RoleName"))
        .filter_map(|l| Some((l.owner(1)?, l.text.as_str())));
    let start = roles.find(|(_, n)| *n == name)?.0;
    let end = match roles.next() {
        Some((next, _)) => next,
        None => start + doc[start..].find("</Roles>")?,
    };
    Some(xml::splice(doc, vec![(start..end, String::new())]))
}

/// After a successful call: a fresh account's service-linked role now exists.
pub fn learn(call: &Call, world: &mut World, ctx: &Ctx) {
    if call.is("iam", "CreateServiceLinkedRole")
        && call.param("AWSServiceName") == Some("ecs.amazonaws.com")
        && world.ecs_service_linked_role.is_none()
    {
        world.ecs_service_linked_role = Some(ctx.now);
    }
}

/// What AWS answers instead of moto's error, if it differs: moto's IAM enforcement errors in
/// each protocol's own shape (`wire::moto_auth_error`); and in a fresh account, moto may know
/// the ECS service-linked role already (another client made it); this client's create is then
/// the one that made it, and AWS says its name "has been taken".
pub fn answer_failure(
    call: &Call,
    status: u16,
    body: &[u8],
    world: &mut World,
    ctx: &Ctx,
) -> Option<AwsError> {
    if let Some(err) = crate::wire::moto_auth_error(call.protocol, status, body) {
        return Some(err);
    }
    let code = xml::leaves(&String::from_utf8_lossy(body))
        .iter()
        .find(|l| l.ends_with("Error/Code"))
        .map(|l| l.text.clone())?;
    let made_before = ctx.cfg.fresh_account.is_some()
        && call.is("iam", "CreateServiceLinkedRole")
        && call.param("AWSServiceName") == Some("ecs.amazonaws.com")
        && code == "EntityAlreadyExists";
    if !made_before {
        return None;
    }
    learn(call, world, ctx);
    check(call, world, ctx)
}

/// Why ELB refuses `name` for a load balancer or target group, if it does.
fn bad_elb_name(name: &str) -> Option<&'static str> {
    if name.len() > 32 {
        Some("cannot be longer than 32 characters")
    } else if name.starts_with("internal-") {
        Some("cannot begin with 'internal-'")
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("cannot begin or end with a hyphen")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Some("can contain only alphanumeric characters and hyphens")
    } else {
        None
    }
}

/// What to ask the upstream before forwarding `call`, if anything.
pub fn probe(call: &Call) -> Option<Probe<'_>> {
    if call.is("elasticloadbalancing", "CreateLoadBalancer")
        && call.param("Scheme") != Some("internal")
        && !matches!(call.param("Type"), Some("network" | "gateway"))
    {
        let subnets = call.params_with_prefix("Subnets.member.");
        return (!subnets.is_empty()).then_some(Probe::AlbSubnets(subnets));
    }
    if call.is("elasticloadbalancing", "CreateTargetGroup") {
        return call.param("Name").map(Probe::TargetGroup);
    }
    None
}

/// The query that answers `probe`.
pub fn probe_body(probe: &Probe<'_>) -> Vec<String> {
    match probe {
        Probe::AlbSubnets(subnets) => {
            let mut q = "Action=DescribeSubnets&Version=2016-11-15".to_string();
            for (i, s) in subnets.iter().enumerate() {
                q.push_str(&format!("&SubnetId.{}={s}", i + 1));
            }
            vec![q]
        }
        Probe::TargetGroup(name) => vec![format!(
            "Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1={name}"
        )],
    }
}

/// The subnets of a DescribeSubnets reply: (id, VPC, prefix length, free addresses).
pub fn subnets(describe: &str) -> Vec<(String, String, u8, u64)> {
    let leaves = xml::leaves(describe);
    let field = |owner: usize, name: &str| {
        leaves
            .iter()
            .find(|l| l.ends_with(&format!("subnetSet/item/{name}")) && l.owner(1) == Some(owner))
            .map(|l| l.text.clone())
    };
    leaves
        .iter()
        .filter(|l| l.ends_with("subnetSet/item/subnetId"))
        .filter_map(|l| {
            let owner = l.owner(1)?;
            let prefix = field(owner, "cidrBlock")?
                .rsplit_once('/')
                .and_then(|(_, p)| p.parse().ok())?;
            let free = field(owner, "availableIpAddressCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX);
            Some((l.text.clone(), field(owner, "vpcId")?, prefix, free))
        })
        .collect()
}

/// An internet-facing load balancer's subnets: too small, or in a VPC without a gateway.
pub fn alb_subnets_refused(
    subnets: &[(String, String, u8, u64)],
    vpc_has_gateway: impl Fn(&str) -> bool,
) -> Option<AwsError> {
    let invalid = |m: String| Some(AwsError::client(400, "InvalidSubnet", m));
    for (id, _, prefix, free) in subnets {
        if *prefix > 27 || *free < 8 {
            return invalid(format!(
                "Not enough IP space available in {id}. ELB requires at least 8 free IP addresses in each subnet."
            ));
        }
    }
    for (_, vpc, _, _) in subnets {
        if !vpc_has_gateway(vpc) {
            return invalid(format!("VPC {vpc} has no internet gateway"));
        }
    }
    None
}

/// The query asking whether `vpc` has an internet gateway attached.
pub fn gateway_probe(vpc: &str) -> String {
    format!(
        "Action=DescribeInternetGateways&Version=2016-11-15&Filter.1.Name=attachment.vpc-id&Filter.1.Value.1={vpc}"
    )
}

/// Whether a DescribeInternetGateways reply lists an attached gateway.
pub fn has_attached_gateway(describe: &str) -> bool {
    xml::leaves(describe)
        .iter()
        .any(|l| l.ends_with("attachmentSet/item/state") && l.text == "available")
}

/// A CreateTargetGroup reply for an existing group with the same settings, from its
/// DescribeTargetGroups reply; None when the settings differ (moto's DuplicateTargetGroupName
/// stands) or there is no such group.
pub fn same_target_group(call: &Call, describe: &str) -> Option<String> {
    let leaves = xml::leaves(describe);
    let get = |name: &str| xml::first(&leaves, &format!("TargetGroups/member/{name}"));
    get("TargetGroupArn")?;
    let same = |param: &str, field: &str| match call.param(param) {
        None => true,
        Some(v) => get(field).is_some_and(|f| f.eq_ignore_ascii_case(v)),
    };
    let settings = [
        ("Protocol", "Protocol"),
        ("Port", "Port"),
        ("VpcId", "VpcId"),
        ("TargetType", "TargetType"),
        ("HealthCheckPath", "HealthCheckPath"),
        ("HealthCheckProtocol", "HealthCheckProtocol"),
        ("HealthCheckIntervalSeconds", "HealthCheckIntervalSeconds"),
        ("HealthCheckTimeoutSeconds", "HealthCheckTimeoutSeconds"),
        ("HealthyThresholdCount", "HealthyThresholdCount"),
        ("UnhealthyThresholdCount", "UnhealthyThresholdCount"),
    ];
    if !settings.iter().all(|(p, f)| same(p, f)) {
        return None;
    }
    Some(
        describe
            .replace("DescribeTargetGroupsResponse", "CreateTargetGroupResponse")
            .replace("DescribeTargetGroupsResult", "CreateTargetGroupResult"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_role_is_cut_from_a_list_roles_reply_with_its_tags() {
        let member = |name: &str| {
            format!(
                "<member><Path>/p/</Path><RoleName>{name}</RoleName><Tags><member><Key>k</Key><Value>v</Value></member></Tags></member>"
            )
        };
        let reply = |names: &[&str]| {
            let members: String = names.iter().map(|n| member(n)).collect();
            format!(
                "<ListRolesResponse><ListRolesResult><Roles>{members}</Roles><IsTruncated>false</IsTruncated></ListRolesResult></ListRolesResponse>"
            )
        };
        let slr = "AWSServiceRoleForECS";
        for (before, after) in [
            (vec![slr, "a"], vec!["a"]),
            (vec!["a", slr], vec!["a"]),
            (vec!["a", slr, "b"], vec!["a", "b"]),
            (vec![slr], vec![]),
        ] {
            assert_eq!(
                super::without_role(&reply(&before), slr),
                Some(reply(&after))
            );
        }
        assert_eq!(super::without_role(&reply(&["a"]), slr), None);
    }

    use super::*;

    #[test]
    fn names_elb_refuses() {
        assert!(bad_elb_name("internal-demo").is_some());
        assert!(bad_elb_name("demo-").is_some());
        assert!(bad_elb_name("-demo").is_some());
        assert!(bad_elb_name(&"a".repeat(33)).is_some());
        assert!(bad_elb_name("demo_x").is_some());
        assert_eq!(bad_elb_name("demo-prod"), None);
    }

    #[test]
    fn reads_subnets_and_gateways() {
        let body = "<DescribeSubnetsResponse><subnetSet>\
            <item><subnetId>subnet-a</subnetId><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/28</cidrBlock><availableIpAddressCount>11</availableIpAddressCount></item>\
            <item><subnetId>subnet-b</subnetId><vpcId>vpc-1</vpcId><cidrBlock>10.0.1.0/24</cidrBlock><availableIpAddressCount>251</availableIpAddressCount></item>\
            </subnetSet></DescribeSubnetsResponse>";
        let s = subnets(body);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0], ("subnet-a".into(), "vpc-1".into(), 28, 11));
        let e = alb_subnets_refused(&s, |_| true).unwrap();
        assert!(e.message.contains("subnet-a"), "{e:?}");
        let e = alb_subnets_refused(&s[1..], |_| false).unwrap();
        assert_eq!(e.message, "VPC vpc-1 has no internet gateway");
        assert_eq!(alb_subnets_refused(&s[1..], |_| true), None);
        assert!(has_attached_gateway(
            "<x><internetGatewaySet><item><attachmentSet><item><vpcId>vpc-1</vpcId><state>available</state></item></attachmentSet></item></internetGatewaySet></x>"
        ));
        assert!(!has_attached_gateway("<x><internetGatewaySet/></x>"));
    }
}
