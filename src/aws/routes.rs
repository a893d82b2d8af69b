//! The listener rules that route requests to the public services that have a route
//! (`public: { paths, host }`): one rule per service, forwarding to its target group, in an
//! order fixed by how specific each route is. The rules of one listener are one resource, so
//! that a new route can move the others in one SetRulePriorities call: priorities are unique
//! per listener, and ELB evaluates the lowest first (ELB User Guide, "Listener rules for your
//! Application Load Balancer"). Only rules stackctl tagged are the stack's.

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, LISTENERS, Permission, RULES, Scope};
use super::{Aws, AwsError};
use crate::names::Names;
use crate::plan::{Ids, Key, Kind, Observed};

/// The stack's rules on one listener.
pub struct Routes;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub listener: Key,
    /// In priority order.
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSpec {
    pub service: String,
    pub priority: i32,
    pub paths: Vec<String>,
    pub host: Option<String>,
    pub target_group: Key,
    /// With two target groups (see `listener::Forwarding::Forward`): the other one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternate: Option<Key>,
}

impl RuleSpec {
    /// The ARNs of the groups it forwards to, sorted; None: one is not created yet.
    fn groups(&self, id: &dyn Fn(&Key) -> Option<String>) -> Option<Vec<String>> {
        let mut g = vec![id(&self.target_group)?];
        if let Some(a) = &self.alternate {
            g.push(id(a)?);
        }
        g.sort();
        Some(g)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub rules: Vec<RuleState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleState {
    pub arn: String,
    pub priority: i32,
    pub paths: Vec<String>,
    pub host: Option<String>,
    /// The group that gets the most requests.
    pub target_group: Option<String>,
    /// Every group it forwards to, with its weight, by ARN.
    pub forwards: Vec<(String, i32)>,
}

impl RuleState {
    fn groups(&self) -> Vec<String> {
        self.forwards.iter().map(|(g, _)| g.clone()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    /// Remove, reorder, change and add rules, in that order.
    Sync { changes: Vec<String> },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::Sync { changes } => write!(f, "{}", changes.join(", ")),
        }
    }
}

/// What to do to the observed rules to get the wanted ones.
#[derive(Debug, Default, PartialEq)]
struct Steps<'a> {
    delete: Vec<&'a RuleState>,
    /// (rule ARN, new priority)
    reorder: Vec<(String, i32)>,
    /// (rule, wanted, whether its forward changes: ECS's weights are kept otherwise)
    modify: Vec<(&'a RuleState, &'a RuleSpec, bool)>,
    create: Vec<&'a RuleSpec>,
}

/// Matches wanted rules to observed ones by a target group they forward to.
fn steps<'a>(
    want: &'a [RuleSpec],
    have: &'a [RuleState],
    id: &dyn Fn(&Key) -> Option<String>,
) -> Steps<'a> {
    let mut s = Steps::default();
    let mut matched = Vec::new();
    for w in want {
        let groups = w.groups(id);
        let found = have.iter().find(|h| {
            !matched.contains(&h.arn)
                && groups
                    .as_ref()
                    .is_some_and(|g| g.iter().any(|g| h.groups().contains(g)))
        });
        match found {
            Some(h) => {
                matched.push(h.arn.clone());
                if h.priority != w.priority {
                    s.reorder.push((h.arn.clone(), w.priority));
                }
                let forward = groups.as_ref() != Some(&h.groups());
                if h.paths != w.paths || h.host != w.host || forward {
                    s.modify.push((h, w, forward));
                }
            }
            None => s.create.push(w),
        }
    }
    s.delete = have.iter().filter(|h| !matched.contains(&h.arn)).collect();
    s
}

impl Steps<'_> {
    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.delete.is_empty() {
            out.push(format!("remove {} rule(s)", self.delete.len()));
        }
        if !self.reorder.is_empty() {
            out.push("reorder".into());
        }
        for (_, w, _) in &self.modify {
            out.push(format!("route {} to {}", describe(w), w.service));
        }
        for w in &self.create {
            out.push(format!("route {} to {}", describe(w), w.service));
        }
        out
    }
}

/// `host example.com, paths /a /b/*`.
pub fn describe(r: &RuleSpec) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &r.host {
        parts.push(format!("host {h}"));
    }
    if !r.paths.is_empty() {
        parts.push(format!("paths {}", r.paths.join(" ")));
    }
    parts.join(", ")
}

impl Resource for Routes {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("elasticloadbalancing:DescribeRules", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            // Authorized on the listener, not the rule it makes (Service Authorization
            // Reference, "Actions defined by Elastic Load Balancing V2").
            ("elasticloadbalancing:CreateRule", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
            ("elasticloadbalancing:ModifyRule", Scope::Arns("TheStacksRules", RULES), &[Up]),
            ("elasticloadbalancing:SetRulePriorities", Scope::Arns("TheStacksRules", RULES), &[Up]),
            ("elasticloadbalancing:DeleteRule", Scope::Arns("TheStacksRules", RULES), &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = vec![spec.listener.clone()];
        for r in &spec.rules {
            d.push(r.target_group.clone());
            d.extend(r.alternate.iter().cloned());
        }
        d
    }

    /// A target group a rule forwards to cannot be deleted (ResourceInUse).
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(
            other,
            Kind::Listener | Kind::LoadBalancer | Kind::TargetGroup
        )
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let changes = steps(&want.rules, &have.rules, &|k| ids.get(k).cloned()).describe();
        Ok(if changes.is_empty() {
            vec![]
        } else {
            vec![Fix::Sync { changes }]
        })
    }

    fn details(spec: &Spec) -> Vec<String> {
        spec.rules
            .iter()
            .map(|r| format!("{}: {} → {}", r.priority, describe(r), r.service))
            .collect()
    }

    fn summary(have: &State) -> String {
        format!("{} rule(s)", have.rules.len())
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        let rules: Vec<Value> = spec
            .rules
            .iter()
            .map(|r| match &r.alternate {
                None => json!({ "priority": r.priority, "host": r.host, "paths": r.paths, "forward": r.target_group }),
                Some(a) => json!({ "priority": r.priority, "host": r.host, "paths": r.paths, "forward": [{ "target_group": r.target_group, "weight": 100 }, { "target_group": a, "weight": 0 }] }),
            })
            .collect();
        json!({ "rules": rules })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            rules: spec
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| RuleState {
                    arn: format!("{}/rule/{i}", id(&spec.listener)),
                    priority: r.priority,
                    paths: r.paths.clone(),
                    host: r.host.clone(),
                    target_group: Some(id(&r.target_group)),
                    forwards: {
                        let w = if r.alternate.is_some() { 100 } else { 1 };
                        let mut f = vec![(id(&r.target_group), w)];
                        f.extend(r.alternate.iter().map(|a| (id(a), 0)));
                        f.sort();
                        f
                    },
                })
                .collect(),
        }
    }

    /// Rules are listed per listener: the load balancer's find finds them.
    async fn find(_: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(Vec::new())
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        let listener = cx.id(&spec.listener)?;
        let none = State { rules: vec![] };
        apply(cx, key, &listener, spec, &none).await?;
        Ok(listener)
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        state: &State,
        _: &Fix,
    ) -> Result<(), AwsError> {
        apply(cx, &have.key, &have.id, want, state).await
    }

    async fn delete(cx: &Cx<'_>, _: &Observed, state: &State) -> Result<(), AwsError> {
        for r in &state.rules {
            delete_rule(cx.aws, &r.arn).await?;
        }
        Ok(())
    }
}

mod calls;
use calls::{apply, delete_rule};
pub use calls::find;
