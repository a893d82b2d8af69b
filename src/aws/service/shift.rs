//! What ECS needs for a blue/green, canary or linear deployment besides the strategy: the
//! alternate target group, the role it changes the load balancer with, and the production
//! listener rule, found on the listener when sending (the listener's default rule for the
//! default public service, else the service's own rule).

use super::wire::Settings;
use crate::aws::kind::Cx;
use crate::aws::{AwsError, Ctx};
use crate::plan::{Kind, ServiceSpec};

/// `s` with its `advancedConfiguration`, when `spec` shifts traffic.
pub(super) async fn shifting<'s>(
    cx: &Cx<'_>,
    spec: &ServiceSpec,
    mut s: Settings<'s>,
) -> Result<Settings<'s>, AwsError> {
    let (Some((tg, attached_by)), Some(alternate), Some(role)) = (
        spec.target_group.as_ref(),
        spec.alternate.as_ref(),
        spec.infrastructure_role.as_ref(),
    ) else {
        return Ok(s);
    };
    if !spec.deploy.shifts_traffic() {
        return Ok(s);
    }
    let listener = cx.id(attached_by)?;
    let groups = [cx.id(tg)?, cx.id(alternate)?];
    let out = cx
        .aws
        .elb
        .describe_rules()
        .listener_arn(&listener)
        .send()
        .await
        .ctx("describe rules of", &listener)?;
    let default = attached_by.kind() == Some(Kind::Listener);
    let rule = out.rules().iter().find(|r| {
        if default {
            return r.is_default() == Some(true);
        }
        let forwards = crate::aws::elb::forwards(r.actions());
        r.is_default() != Some(true) && forwards.iter().any(|(g, _)| groups.contains(g))
    });
    let Some(rule) = rule.and_then(|r| r.rule_arn()) else {
        let mut e = AwsError::new(
            "find the production listener rule of",
            &spec.container,
            "no rule of the listener forwards to its target groups",
        );
        e.hint = Some(
            "run `stackctl up` again: it makes the rule forward to both of the service's target groups first".into(),
        );
        return Err(e);
    };
    s.advanced = Some((groups[1].clone(), rule.to_string(), role.1.clone()));
    Ok(s)
}
