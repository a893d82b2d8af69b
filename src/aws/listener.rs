//! The load balancer's HTTP :80 listener, forwarding to the public service's target group.
//! (HTTPS on :443 with a certificate is the natural next listener.)

use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};

use super::{Aws, AwsError, Ctx, Outcome, once};
use crate::names::Names;
use crate::plan::{Key, Observed, State, desired};

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
    let out = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .ctx("describe listeners of", lb)?;
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
                state: State::Listener {
                    port: l.port().unwrap_or_default(),
                    target_group: target,
                },
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
        || {
            req.clone()
                .customize()
                .config_override(once::elb_no_retry())
                .send()
        },
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
