//! The rules' calls: applying the steps to a listener, reading its rules, deleting one.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, HostHeaderConditionConfig, PathPatternConditionConfig, RuleCondition,
    RulePriorityPair,
};

use super::{RuleSpec, RuleState, Spec, State, steps};
use crate::aws::kind::Cx;
use crate::aws::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{Key, Observed};

pub(super) async fn apply(
    cx: &Cx<'_>,
    key: &Key,
    listener: &str,
    want: &Spec,
    have: &State,
) -> Result<(), AwsError> {
    let id = |k: &Key| cx.id(k).ok();
    let s = steps(&want.rules, &have.rules, &id);
    for r in &s.delete {
        delete_rule(cx.aws, &r.arn).await?;
    }
    if !s.reorder.is_empty() {
        let pairs = s
            .reorder
            .iter()
            .map(|(arn, p)| RulePriorityPair::builder().rule_arn(arn).priority(*p).build());
        cx.aws
            .elb
            .set_rule_priorities()
            .set_rule_priorities(Some(pairs.collect()))
            .send()
            .await
            .ctx("reorder rules of", listener)?;
    }
    for (h, w, changes_forward) in &s.modify {
        // The actions only when the groups change: ECS's weights stay otherwise.
        let actions = match changes_forward {
            true => Some(vec![forward(cx, w)?]),
            false => None,
        };
        cx.aws
            .elb
            .modify_rule()
            .rule_arn(&h.arn)
            .set_conditions(Some(conditions(w)))
            .set_actions(actions)
            .send()
            .await
            .ctx("modify rule", &h.arn)?;
    }
    for w in &s.create {
        let tags = crate::aws::tags(cx.names, &key.0, &w.service)?;
        let target = cx.id(&w.target_group)?;
        let made = cx
            .aws
            .elb
            .create_rule()
            .listener_arn(listener)
            .priority(w.priority)
            .set_conditions(Some(conditions(w)))
            .actions(forward(cx, w)?)
            .set_tags(Some(tags))
            .send()
            .await
            .ctx("create rule for", &w.service);
        match made {
            // CreateRule takes no idempotency token: after a lost reply the retry finds its
            // own rule holding the priority.
            Err(e) if e.code().starts_with("PriorityInUse") => {
                if !made_before(cx.aws, listener, w, &target).await? {
                    return Err(AwsError {
                        hint: Some(format!(
                            "a rule stackctl did not make holds priority {} on this listener: remove it or give it another priority",
                            w.priority
                        )),
                        ..e
                    });
                }
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Whether the listener has `w`'s rule already: its priority, conditions and target group.
async fn made_before(aws: &Aws, listener: &str, w: &RuleSpec, target: &str) -> Result<bool, AwsError> {
    let out = aws
        .elb
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .ctx("describe rules of", listener)?;
    Ok(out.rules().iter().any(|r| {
        let Some(arn) = r.rule_arn() else { return false };
        let have = rule_state(r, arn);
        have.priority == w.priority
            && have.paths == w.paths
            && have.host == w.host
            && have.forwards.iter().any(|(g, _)| g == target)
    }))
}

fn forward(cx: &Cx<'_>, w: &RuleSpec) -> Result<Action, AwsError> {
    let other = w.alternate.as_ref().map(|a| cx.id(a)).transpose()?;
    Ok(crate::aws::elb::forward(cx.id(&w.target_group)?, other))
}

fn conditions(r: &RuleSpec) -> Vec<RuleCondition> {
    let mut c = Vec::new();
    if let Some(h) = &r.host {
        let config = HostHeaderConditionConfig::builder().values(h).build();
        c.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(config)
                .build(),
        );
    }
    if !r.paths.is_empty() {
        let config = PathPatternConditionConfig::builder()
            .set_values(Some(r.paths.clone()))
            .build();
        c.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(config)
                .build(),
        );
    }
    c
}

pub(super) async fn delete_rule(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    aws.elb
        .delete_rule()
        .rule_arn(arn)
        .send()
        .await
        .ctx("delete rule", arn)
        .ok_if_not_found()?;
    Ok(())
}

/// The stack's rules on each of `listeners` (observed listener keys and ARNs): one resource
/// per listener that has any.
pub async fn find(
    aws: &Aws,
    names: &Names,
    listeners: &[(Key, String)],
) -> Result<Vec<Observed>, AwsError> {
    let mut out = Vec::new();
    for (listener, arn) in listeners {
        let described = aws
            .elb
            .describe_rules()
            .listener_arn(arn)
            .send()
            .await
            .ctx("describe rules of", arn)
            .ok_if_not_found()?;
        let Some(described) = described else { continue };
        let rules: Vec<_> = described
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let arns: Vec<String> = rules.iter().filter_map(|r| r.rule_arn()).map(str::to_string).collect();
        let key = crate::plan::desired::routes_on(listener);
        let owned = crate::aws::elb::owned(aws, names, &arns).await?;
        let mut state = State { rules: vec![] };
        for r in rules {
            let Some(arn) = r.rule_arn() else { continue };
            if !owned.iter().any(|(a, k)| a == arn && *k == key.0) {
                continue;
            }
            state.rules.push(rule_state(r, arn));
        }
        if state.rules.is_empty() {
            continue;
        }
        out.push(Observed {
            key,
            id: arn.clone(),
            name: names.listener_rules(listener.name()),
            state: crate::plan::State::Routes(state),
        });
    }
    Ok(out)
}

fn rule_state(r: &aws_sdk_elasticloadbalancingv2::types::Rule, arn: &str) -> RuleState {
    let mut paths = Vec::new();
    let mut host = None;
    for c in r.conditions() {
        match c.field() {
            Some("path-pattern") => {
                let v = c.path_pattern_config().map(|p| p.values().to_vec());
                paths.extend(v.unwrap_or_else(|| c.values().to_vec()));
            }
            Some("host-header") => {
                let v = c.host_header_config().map(|h| h.values().to_vec());
                host = v.unwrap_or_else(|| c.values().to_vec()).into_iter().next();
            }
            _ => {}
        }
    }
    RuleState {
        arn: arn.to_string(),
        priority: r.priority().and_then(|p| p.parse().ok()).unwrap_or(0),
        paths,
        host,
        target_group: crate::aws::elb::heaviest(&crate::aws::elb::forwards(r.actions())),
        forwards: crate::aws::elb::forwards(r.actions()),
    }
}
