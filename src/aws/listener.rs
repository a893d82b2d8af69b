//! The load balancer's HTTP :80 listener, forwarding to the public service's target group.
//! (HTTPS on :443 with a certificate is the natural next listener.)

use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, LISTENERS, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome, once};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, desired};

/// The load balancer's HTTP listener, forwarding to the public service's target group.
pub struct Listener;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub load_balancer: Key,
    pub target_group: Key,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub port: i32,
    pub target_group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetListenerTarget { target_group: Key },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetListenerTarget { target_group } => write!(f, "forward to {target_group}"),
        }
    }
}

impl Resource for Listener {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    const SHARED: bool = false;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("elasticloadbalancing:DescribeListeners", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("elasticloadbalancing:CreateListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
            ("elasticloadbalancing:ModifyListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
            ("elasticloadbalancing:DeleteListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.load_balancer.clone(), spec.target_group.clone()]
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(other, Kind::LoadBalancer | Kind::TargetGroup)
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let target = ids.get(&want.target_group);
        Ok(
            if target.is_none() || target != have.target_group.as_ref() {
                vec![Fix::SetListenerTarget {
                    target_group: want.target_group.clone(),
                }]
            } else {
                vec![]
            },
        )
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        json!({
            "protocol": PROTOCOL.as_str(),
            "port": PORT,
            "default_action": { "type": "forward", "target_group": spec.target_group },
        })
    }

    /// Listeners are listed per load balancer: the load balancer's find finds them.
    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            port: PORT,
            target_group: Some(id(&spec.target_group)),
        }
    }

    async fn find(_: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(Vec::new())
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        let lb = cx.id(&spec.load_balancer)?;
        create(cx.aws, cx.names, key, &lb, &cx.id(&spec.target_group)?).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetListenerTarget { target_group } => {
                set_target(cx.aws, &have.id, &cx.id(target_group)?).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub const PROTOCOL: ProtocolEnum = ProtocolEnum::Http;
pub const PORT: i32 = 80;

pub async fn find(
    aws: &Aws,
    names: &Names,
    load_balancer_arn: Option<&str>,
) -> Result<Vec<Observed>, AwsError> {
    let Some(lb) = load_balancer_arn else {
        return Ok(vec![]);
    };
    // A load balancer listed a moment ago may be gone now (deleted by a `down` that was
    // stopped, or still listed while the deletion spreads): gone, it has no listeners.
    let out = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .ctx("describe listeners of", lb)
        .ok_if_not_found()?;
    let Some(out) = out else { return Ok(vec![]) };
    Ok(out
        .listeners()
        .iter()
        .filter(|l| l.port() == Some(80))
        .filter_map(|l| {
            let target = l
                .default_actions()
                .iter()
                .find_map(|a| a.target_group_arn())
                .map(str::to_string);
            Some(Observed {
                key: desired::listener(),
                id: l.listener_arn()?.into(),
                name: format!("{}:80", names.load_balancer()),
                state: plan::State::Listener(State {
                    port: l.port().unwrap_or_default(),
                    target_group: target,
                }),
            })
        })
        .collect())
}

fn forward(target_group_arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build()
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    load_balancer_arn: &str,
    target_group_arn: &str,
) -> Result<String, AwsError> {
    let name = format!("{}:80", names.load_balancer());
    let req = aws
        .elb
        .create_listener()
        .load_balancer_arn(load_balancer_arn)
        .protocol(PROTOCOL)
        .port(PORT)
        .default_actions(forward(target_group_arn))
        .set_tags(Some(super::tags(names, &key.0, &name)?));
    once::create(
        "create listener",
        &name,
        key,
        once::attempt!(req, once::elb_no_retry()),
        |out| {
            out.listeners()
                .first()
                .and_then(|l| l.listener_arn())
                .map(str::to_string)
        },
        || find(aws, names, Some(load_balancer_arn)),
    )
    .await
}

pub async fn set_target(aws: &Aws, arn: &str, target_group_arn: &str) -> Result<(), AwsError> {
    aws.elb
        .modify_listener()
        .listener_arn(arn)
        .default_actions(forward(target_group_arn))
        .send()
        .await
        .ctx("set target of listener", arn)?;
    Ok(())
}

pub async fn delete(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    aws.elb
        .delete_listener()
        .listener_arn(arn)
        .send()
        .await
        .ctx("delete listener", arn)
        .ok_if_not_found()?;
    Ok(())
}
