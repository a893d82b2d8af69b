//! A new ALB stays `provisioning` for a while (moto flips it to `active` on the first describe).

use crate::classify::Call;
use crate::world::{Ctx, World, text};
use crate::xml;

pub fn learn(call: &Call, body: &[u8], world: &mut World, ctx: &mut Ctx) {
    if !call.is("elasticloadbalancing", "CreateLoadBalancer") {
        return;
    }
    let rule = ctx.cfg.alb_provisioning;
    let leaves = xml::leaves(text(body));
    if let Some(arn) = xml::first(&leaves, "LoadBalancers/member/LoadBalancerArn")
        && ctx.dice.chance(rule.chance.resolve(ctx.cfg.rate))
        && !rule.window.is_zero()
    {
        world.albs.insert(arn.to_string(), ctx.now + rule.window);
    }
}

/// Rewrites `State/Code` of still-provisioning ALBs in a DescribeLoadBalancers response.
/// Returns the new body and the ARNs rewritten.
pub fn rewrite(
    call: &Call,
    body: &[u8],
    world: &World,
    ctx: &Ctx,
) -> Option<(Vec<u8>, Vec<String>)> {
    if !call.is("elasticloadbalancing", "DescribeLoadBalancers") || world.albs.is_empty() {
        return None;
    }
    let doc = text(body);
    let leaves = xml::leaves(doc);
    let mut edits = Vec::new();
    let mut arns = Vec::new();
    for arn in leaves
        .iter()
        .filter(|l| l.ends_with("LoadBalancers/member/LoadBalancerArn"))
    {
        if !World::until(world.albs.get(&arn.text), ctx.now) {
            continue;
        }
        let member = arn.owner(1);
        if let Some(code) = leaves
            .iter()
            .find(|l| l.ends_with("member/State/Code") && l.owner(2) == member)
            && code.text != "provisioning"
        {
            edits.push((code.span.clone(), "provisioning".to_string()));
            arns.push(arn.text.clone());
        }
    }
    if edits.is_empty() {
        return None;
    }
    Some((xml::splice(doc, edits).into_bytes(), arns))
}
