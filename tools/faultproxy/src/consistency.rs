//! Eventual consistency: a just-created resource is missing from the next Describe/Get by id.

use crate::classify::Call;
use crate::wire::AwsError;
use crate::world::{Ctx, World, json, text};
use crate::xml;

/// Where a create call's new id is.
enum IdFrom {
    /// Response XML, path suffix.
    Xml(&'static str),
    /// Request form parameter.
    Param(&'static str),
    /// Request JSON pointer.
    Json(&'static str),
    /// Response JSON pointer.
    ReplyJson(&'static str),
}

const CREATES: &[(&str, &str, IdFrom, &str)] = &[
    ("ec2", "CreateVpc", IdFrom::Xml("vpc/vpcId"), "vpc"),
    (
        "ec2",
        "CreateSubnet",
        IdFrom::Xml("subnet/subnetId"),
        "subnet",
    ),
    (
        "ec2",
        "CreateSecurityGroup",
        IdFrom::Xml("CreateSecurityGroupResponse/groupId"),
        "sg",
    ),
    (
        "ec2",
        "CreateInternetGateway",
        IdFrom::Xml("internetGateway/internetGatewayId"),
        "igw",
    ),
    (
        "ec2",
        "CreateRouteTable",
        IdFrom::Xml("routeTable/routeTableId"),
        "rtb",
    ),
    ("iam", "CreateRole", IdFrom::Param("RoleName"), "role"),
    (
        "elasticloadbalancing",
        "CreateLoadBalancer",
        IdFrom::Xml("LoadBalancers/member/LoadBalancerArn"),
        "alb",
    ),
    (
        "elasticloadbalancing",
        "CreateTargetGroup",
        IdFrom::Xml("TargetGroups/member/TargetGroupArn"),
        "tg",
    ),
    (
        "ecr",
        "CreateRepository",
        IdFrom::Json("/repositoryName"),
        "ecr",
    ),
    ("ssm", "PutParameter", IdFrom::Json("/Name"), "ssm"),
    (
        "ecs",
        "CreateCluster",
        IdFrom::ReplyJson("/cluster/clusterName"),
        "cluster",
    ),
    // ACM: "a delay of several seconds before you can retrieve information about the new
    // certificate" (API Reference, RequestCertificate).
    (
        "acm",
        "RequestCertificate",
        IdFrom::ReplyJson("/CertificateArn"),
        "cert",
    ),
    // Application Auto Scaling: "a brief eventual consistency delay" after registering
    // (API Reference, RegisterScalableTarget).
    (
        "application-autoscaling",
        "RegisterScalableTarget",
        IdFrom::Json("/ResourceId"),
        "scalable",
    ),
];

/// Where a read call names ids.
enum IdsIn {
    /// Query list members `Prefix1`, `Prefix2`...
    Prefix(&'static str),
    Param(&'static str),
    JsonList(&'static str),
    Json(&'static str),
}

/// (service, action, ids, kind, status, code, message with `{id}`).
type Read = (
    &'static str,
    &'static str,
    IdsIn,
    &'static str,
    u16,
    &'static str,
    &'static str,
);

const READS: &[Read] = &[
    (
        "ec2",
        "DescribeVpcs",
        IdsIn::Prefix("VpcId."),
        "vpc",
        400,
        "InvalidVpcID.NotFound",
        "The vpc ID '{id}' does not exist",
    ),
    (
        "ec2",
        "DescribeSubnets",
        IdsIn::Prefix("SubnetId."),
        "subnet",
        400,
        "InvalidSubnetID.NotFound",
        "The subnet ID '{id}' does not exist",
    ),
    (
        "ec2",
        "DescribeSecurityGroups",
        IdsIn::Prefix("GroupId."),
        "sg",
        400,
        "InvalidGroup.NotFound",
        "The security group '{id}' does not exist",
    ),
    (
        "ec2",
        "DescribeInternetGateways",
        IdsIn::Prefix("InternetGatewayId."),
        "igw",
        400,
        "InvalidInternetGatewayID.NotFound",
        "The internetGateway ID '{id}' does not exist",
    ),
    (
        "ec2",
        "DescribeRouteTables",
        IdsIn::Prefix("RouteTableId."),
        "rtb",
        400,
        "InvalidRouteTableID.NotFound",
        "The routeTable ID '{id}' does not exist",
    ),
    (
        "iam",
        "GetRole",
        IdsIn::Param("RoleName"),
        "role",
        404,
        "NoSuchEntity",
        "The role with name {id} cannot be found.",
    ),
    (
        "elasticloadbalancing",
        "DescribeLoadBalancers",
        IdsIn::Prefix("LoadBalancerArns.member."),
        "alb",
        400,
        "LoadBalancerNotFound",
        "One or more load balancers not found",
    ),
    (
        "elasticloadbalancing",
        "DescribeTargetGroups",
        IdsIn::Prefix("TargetGroupArns.member."),
        "tg",
        400,
        "TargetGroupNotFound",
        "One or more target groups not found",
    ),
    (
        "ecr",
        "DescribeRepositories",
        IdsIn::JsonList("/repositoryNames"),
        "ecr",
        400,
        "RepositoryNotFoundException",
        "The repository with name '{id}' does not exist in the registry",
    ),
    (
        "ssm",
        "GetParameter",
        IdsIn::Json("/Name"),
        "ssm",
        400,
        "ParameterNotFound",
        "",
    ),
    (
        "acm",
        "DescribeCertificate",
        IdsIn::Json("/CertificateArn"),
        "cert",
        400,
        "ResourceNotFoundException",
        "Could not find certificate {id}.",
    ),
    (
        "application-autoscaling",
        "PutScalingPolicy",
        IdsIn::Json("/ResourceId"),
        "scalable",
        400,
        "ObjectNotFoundException",
        "No scalable target registered for service namespace: ecs, resource ID: {id}, scalable dimension: ecs:service:DesiredCount",
    ),
];

/// After a successful create: maybe make the new resource invisible for a while.
pub fn learn(call: &Call, body: &[u8], world: &mut World, ctx: &mut Ctx) {
    let Some((_, _, from, kind)) = CREATES.iter().find(|(s, a, ..)| call.is(s, a)) else {
        return;
    };
    if call.is("ssm", "PutParameter")
        && call.json.as_ref().and_then(|j| j.get("Overwrite")) == Some(&true.into())
    {
        return;
    }
    let id = match from {
        IdFrom::Xml(suffix) => xml::first(&xml::leaves(text(body)), suffix).map(str::to_string),
        IdFrom::Param(p) => call.param(p).map(str::to_string),
        IdFrom::Json(p) => call.json_str(p).map(str::to_string),
        IdFrom::ReplyJson(p) => json(body)
            .pointer(p)
            .and_then(|v| v.as_str())
            .map(str::to_string),
    };
    let rule = ctx.cfg.consistency;
    if let Some(id) = id
        && ctx.dice.chance(rule.chance.resolve(ctx.cfg.rate))
        && !rule.window.is_zero()
    {
        world.invisible.insert((kind, id), ctx.now + rule.window);
    }
}

/// Before forwarding a read: the error AWS gives for an id it does not see yet.
pub fn check(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    let (_, _, ids_in, kind, status, code, message) = READS.iter().find(|r| call.is(r.0, r.1))?;
    let ids: Vec<&str> = match ids_in {
        IdsIn::Prefix(p) => call.params_with_prefix(p),
        IdsIn::Param(p) => call.param(p).into_iter().collect(),
        IdsIn::Json(p) => call.json_str(p).into_iter().collect(),
        IdsIn::JsonList(p) => call
            .json
            .as_ref()
            .and_then(|j| j.pointer(p))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default(),
    };
    let missing = ids
        .into_iter()
        .find(|id| World::until(world.invisible.get(&(*kind, id.to_string())), ctx.now))?;
    Some(AwsError::client(
        *status,
        code,
        message.replace("{id}", missing),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;
    use crate::config::{Chance, FaultConfig, Rule};
    use crate::decide::Dice;
    use http::HeaderMap;
    use std::time::{Duration, Instant};

    fn json_call(target: &str, body: &str) -> Call {
        let mut h = HeaderMap::new();
        h.insert("x-amz-target", target.parse().unwrap());
        h.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        classify(&h, "/", body.as_bytes())
    }

    #[test]
    fn ecr_and_ssm_reads_miss_new_resources_for_the_window() {
        let mut cfg = FaultConfig::new("http://127.0.0.1:1".parse().unwrap(), 1, 0.0);
        cfg.consistency = Rule::new(Duration::from_secs(5), Chance::Fixed(1.0));
        let (mut world, now) = (World::default(), Instant::now());
        let mut dice = Dice::for_call(1, "k", 1).1;
        let mut ctx = Ctx {
            cfg: &cfg,
            now,
            dice: &mut dice,
        };
        let create = json_call(
            "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
            r#"{"repositoryName":"web"}"#,
        );
        learn(&create, b"{}", &mut world, &mut ctx);
        let put = json_call(
            "AmazonSSM.PutParameter",
            r#"{"Name":"/app/token","Value":"x"}"#,
        );
        learn(&put, b"{}", &mut world, &mut ctx);

        let read = json_call(
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
            r#"{"repositoryNames":["other","web"]}"#,
        );
        let err = check(&read, &world, &ctx).unwrap();
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "RepositoryNotFoundException")
        );
        assert!(err.message.contains("'web'"));
        let get = json_call("AmazonSSM.GetParameter", r#"{"Name":"/app/token"}"#);
        assert_eq!(check(&get, &world, &ctx).unwrap().code, "ParameterNotFound");

        let later = Ctx {
            cfg: &cfg,
            now: now + Duration::from_secs(6),
            dice: &mut Dice::for_call(1, "k", 2).1,
        };
        assert_eq!(
            check(&get, &world, &later),
            None,
            "visible after the window"
        );
    }
}
