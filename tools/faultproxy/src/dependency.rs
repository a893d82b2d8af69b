//! `DependencyViolation`: network interfaces of a deleted ALB or of stopped tasks drain for a
//! while, and a security group referenced by another group's rule cannot be deleted.

use crate::classify::Call;
use crate::wire::AwsError;
use crate::world::{Ctx, World};
use crate::xml;

/// Starts a drain window after DeleteLoadBalancer, DeleteService or UpdateService(desiredCount=0).
pub fn learn(call: &Call, world: &mut World, ctx: &mut Ctx) {
    let frees_enis = call.is("elasticloadbalancing", "DeleteLoadBalancer")
        || call.is("ecs", "DeleteService")
        || (call.is("ecs", "UpdateService")
            && call
                .json
                .as_ref()
                .and_then(|j| j.get("desiredCount"))
                .and_then(|v| v.as_u64())
                == Some(0));
    if !frees_enis {
        return;
    }
    let rule = ctx.cfg.eni_drain;
    if ctx.dice.chance(rule.chance.resolve(ctx.cfg.rate)) && !rule.window.is_zero() {
        let until = ctx.now + rule.window;
        world.drain_until = Some(world.drain_until.map_or(until, |u| u.max(until)));
    }
}

/// Before forwarding an EC2 delete/detach: the error AWS gives while ENIs still exist.
pub fn check_drain(call: &Call, world: &World, ctx: &Ctx) -> Option<AwsError> {
    if call.service != "ec2" || !World::until(world.drain_until.as_ref(), ctx.now) {
        return None;
    }
    let p = |k| call.param(k).unwrap_or("?");
    let message = match call.action.as_str() {
        "DeleteSecurityGroup" => format!("resource {} has a dependent object", p("GroupId")),
        "DeleteSubnet" => format!(
            "The subnet '{}' has dependencies and cannot be deleted.",
            p("SubnetId")
        ),
        "DetachInternetGateway" => format!(
            "Network {} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.",
            p("VpcId")
        ),
        "DeleteInternetGateway" => {
            format!(
                "The internetGateway '{}' has dependencies and cannot be deleted.",
                p("InternetGatewayId")
            )
        }
        "DeleteVpc" => format!(
            "The vpc '{}' has dependencies and cannot be deleted.",
            p("VpcId")
        ),
        _ => return None,
    };
    Some(AwsError::client(400, "DependencyViolation", message))
}

/// The group id a DeleteSecurityGroup must be checked for, if the rule fires.
pub fn sg_to_check<'a>(call: &'a Call, ctx: &mut Ctx) -> Option<&'a str> {
    if !call.is("ec2", "DeleteSecurityGroup") {
        return None;
    }
    let group = call.param("GroupId")?;
    ctx.dice
        .chance(ctx.cfg.sg_references.resolve(ctx.cfg.rate))
        .then_some(group)
}

/// Another group whose rules reference `group`, from a DescribeSecurityGroups response.
pub fn referencing_group(describe_body: &[u8], group: &str) -> Option<String> {
    let leaves = xml::leaves(std::str::from_utf8(describe_body).ok()?);
    let owner_of = |offset: usize| {
        leaves
            .iter()
            .find(|l| l.ends_with("securityGroupInfo/item/groupId") && l.owner(1) == Some(offset))
            .map(|l| l.text.clone())
    };
    leaves.iter().find_map(|l| {
        let referenced = (l.ends_with("ipPermissions/item/groups/item/groupId")
            || l.ends_with("ipPermissionsEgress/item/groups/item/groupId"))
            && l.text == group;
        // path: securityGroupInfo/item/ipPermissions/item/groups/item/groupId → the
        // security group <item> is 5 levels above the groupId element.
        let owner = owner_of(l.owner(5)?)?;
        (referenced && owner != group).then_some(owner)
    })
}

pub fn sg_referenced(group: &str) -> AwsError {
    AwsError::client(
        400,
        "DependencyViolation",
        format!("resource {group} has a dependent object"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_referencing_group() {
        let body = br#"<DescribeSecurityGroupsResponse><securityGroupInfo>
          <item><groupId>sg-a</groupId><ipPermissions/></item>
          <item><groupId>sg-b</groupId><ipPermissions><item><ipProtocol>tcp</ipProtocol>
            <groups><item><groupId>sg-a</groupId><userId>1</userId></item></groups></item></ipPermissions></item>
        </securityGroupInfo></DescribeSecurityGroupsResponse>"#;
        assert_eq!(referencing_group(body, "sg-a").as_deref(), Some("sg-b"));
        assert_eq!(referencing_group(body, "sg-b"), None);
    }
}
