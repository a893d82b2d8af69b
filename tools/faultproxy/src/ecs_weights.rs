//! ECS's writes on the production listener rule of the emulated services that deploy
//! blue/green, canary or linear: before any call is answered, the rule carries the weights
//! ECS has set by now (`ecs_shift::weights`). They are written to the upstream (ModifyRule;
//! ModifyListener for a listener's default rule, as ECS's managed policy
//! AmazonECSInfrastructureRolePolicyForLoadBalancers allows), so every reader sees them as on
//! AWS, and a client that overwrites them is overwritten only at ECS's next step.
//!
//! A new deployment first checks the rule: it must forward to both target groups, else
//! the deployment is rolled back with ECS's reason ("Migrating from a CodeDeploy blue/green
//! to an Amazon ECS blue/green service deployment", ECS Developer Guide).

use super::Shared;
use crate::classify::Call;
use crate::decide::Dice;
use crate::ecs::{EcsService, Key, epoch};
use crate::ecs_learn::catch_up;
use crate::ecs_shift::{groups, roll_back, weights};
use crate::world::{Ctx, World};
use crate::xml;
use std::time::Instant;

/// ECS's reason for a deployment whose production rule does not forward to both groups.
pub const NOT_ASSOCIATED: &str = "Service deployment rolled back because of invalid networking configuration. Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule.";

/// A rule to write, and whether the deployment must check it first.
struct Due {
    key: Key,
    deployment: String,
    check: bool,
    rule: String,
    weights: Vec<(String, f64)>,
}

fn due(world: &mut World, ctx: &mut Ctx) -> Vec<Due> {
    let keys: Vec<Key> = world
        .ecs
        .iter()
        .filter(|(_, s)| s.deleted.is_none() && groups(s).is_some())
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = Vec::new();
    for key in keys {
        let Some(svc) = catch_up(world, &key, ctx) else {
            continue;
        };
        let Some((rule, w)) = weights(svc, ctx.now) else {
            continue;
        };
        let Some(p) = svc.primary() else { continue };
        let check = p.failed.is_none() && p.shift.as_ref().is_some_and(|s| !s.checked);
        let deployment = p.id.clone();
        if check || world.pushed.get(&rule) != Some(&w) {
            out.push(Due {
                key,
                deployment,
                check,
                rule,
                weights: w,
            });
        }
    }
    out
}

/// What the upstream says of a rule: whether it is a listener's default rule, and the target
/// groups it forwards to.
fn rule_facts(reply: &str) -> (bool, Vec<String>) {
    let leaves = xml::leaves(reply);
    let default = xml::first(&leaves, "Rules/member/IsDefault") == Some("true");
    let mut groups: Vec<String> = leaves
        .iter()
        .filter(|l| l.ends_with("TargetGroupArn"))
        .map(|l| l.text.clone())
        .collect();
    groups.sort();
    groups.dedup();
    (default, groups)
}

/// ELB weights are integers: percents, or tenths of a percent when a share has a fraction.
fn integer_weights(w: &[(String, f64)]) -> Vec<(String, i64)> {
    let scale = if w.iter().all(|(_, x)| x.fract() == 0.0) {
        1.0
    } else {
        10.0
    };
    w.iter()
        .map(|(g, x)| (g.clone(), (x * scale).round() as i64))
        .collect()
}

/// The query body writing `w` as the rule's (or the listener's default) forward action.
fn write_body(rule: &str, default: bool, w: &[(String, f64)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let prefix = if default {
        let listener = rule.replacen(":listener-rule/", ":listener/", 1);
        let listener = listener
            .rsplit_once('/')
            .map_or(listener.as_str(), |(l, _)| l);
        q.append_pair("Action", "ModifyListener")
            .append_pair("ListenerArn", listener);
        "DefaultActions.member.1"
    } else {
        q.append_pair("Action", "ModifyRule")
            .append_pair("RuleArn", rule);
        "Actions.member.1"
    };
    q.append_pair("Version", "2015-12-01")
        .append_pair(&format!("{prefix}.Type"), "forward");
    for (i, (group, weight)) in integer_weights(w).iter().enumerate() {
        let m = format!("{prefix}.ForwardConfig.TargetGroups.member.{}", i + 1);
        q.append_pair(&format!("{m}.TargetGroupArn"), group)
            .append_pair(&format!("{m}.Weight"), &weight.to_string());
    }
    q.finish()
}

/// Deployment `id` of `svc` cannot shift: its rule does not forward to both groups. It is
/// rolled back (or, with nothing to go back to, fails) with ECS's reason.
fn not_associated(svc: &mut EcsService, id: &str, now: Instant, half: std::time::Duration) {
    let e = epoch(now, now);
    match roll_back(svc, now, half) {
        Some((back, done)) => {
            svc.history.stopped(id, e, &back, done);
        }
        None => {
            if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == id) {
                d.failed = Some((now, 0));
            }
            svc.history.failed(id, e, None);
        }
    }
    if let Some(r) = svc
        .history
        .deployments
        .iter_mut()
        .find(|r| r.deployment == id)
    {
        r.reason = NOT_ASSOCIATED.into();
    }
}

impl Shared {
    /// Brings the production rules of the emulated services to ECS's weights at this moment.
    pub(super) async fn sync_weights(&self, parts: &http::request::Parts, call: &Call, n: u64) {
        let cfg = &self.cfg;
        if !cfg.ecs_emulation || !matches!(call.service.as_str(), "ecs" | "elasticloadbalancing") {
            return;
        }
        let due = {
            let mut world = self.world();
            let mut dice = Dice::for_emulation(cfg.seed, &call.key(), n);
            let mut ctx = Ctx {
                cfg,
                now: Instant::now(),
                dice: &mut dice,
            };
            due(&mut world, &mut ctx)
        };
        for d in due {
            let describe = format!(
                "Action=DescribeRules&Version=2015-12-01&RuleArns.member.1={}",
                url::form_urlencoded::byte_serialize(d.rule.as_bytes()).collect::<String>()
            );
            let reply = self.query(parts, "elasticloadbalancing", describe).await;
            let facts = reply.map(|r| rule_facts(&String::from_utf8_lossy(&r)));
            if d.check {
                let mut world = self.world();
                let Some(svc) = world.ecs.get_mut(&d.key) else {
                    continue;
                };
                let both = groups(svc).is_some_and(|(a, b, _)| {
                    facts
                        .as_ref()
                        .is_some_and(|(_, g)| g.contains(&a) && g.contains(&b))
                });
                if !both {
                    not_associated(svc, &d.deployment, Instant::now(), cfg.ecs_rollout / 2);
                    continue;
                }
                if let Some(s) = svc
                    .deployments
                    .iter_mut()
                    .find(|x| x.id == d.deployment)
                    .and_then(|x| x.shift.as_mut())
                {
                    s.checked = true;
                }
            }
            let Some((default, _)) = facts else { continue };
            let body = write_body(&d.rule, default, &d.weights);
            if self
                .query(parts, "elasticloadbalancing", body)
                .await
                .is_some()
            {
                self.world().pushed.insert(d.rule, d.weights);
            } else {
                tracing::warn!(rule = %d.rule, "could not write the emulated ECS weights");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_written_as_elb_takes_them() {
        let w = |a: f64| vec![("tg-a".to_string(), a), ("tg-b".to_string(), 100.0 - a)];
        let ints = |a| {
            integer_weights(&w(a))
                .into_iter()
                .map(|x| x.1)
                .collect::<Vec<_>>()
        };
        assert_eq!(ints(100.0), [100, 0]);
        assert_eq!(ints(5.0), [5, 95]);
        assert_eq!(ints(2.5), [25, 975]);
        let rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/2/3";
        let body = write_body(rule, true, &w(10.0));
        assert!(body.starts_with("Action=ModifyListener&ListenerArn=arn%3Aaws"));
        assert!(body.contains("listener%2Fapp%2Flb%2F1%2F2&"), "{body}");
        assert!(
            body.contains("DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=90")
        );
        let body = write_body(rule, false, &w(10.0));
        assert!(
            body.contains("Action=ModifyRule&RuleArn=")
                && body.contains("Actions.member.1.Type=forward")
        );
    }

    #[test]
    fn a_rule_is_read_for_its_groups() {
        let reply = "<DescribeRulesResponse><DescribeRulesResult><Rules><member><IsDefault>true</IsDefault><Actions><member><Type>forward</Type><ForwardConfig><TargetGroups><member><TargetGroupArn>tg-b</TargetGroupArn><Weight>0</Weight></member><member><TargetGroupArn>tg-a</TargetGroupArn><Weight>100</Weight></member></TargetGroups></ForwardConfig></member></Actions></member></Rules></DescribeRulesResult></DescribeRulesResponse>";
        assert_eq!(
            rule_facts(reply),
            (true, vec!["tg-a".into(), "tg-b".into()])
        );
    }
}
