//! Reading the stack's listeners (:443 only when stackctl tagged it), deleting one, and the
//! settings a create or modify sends.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, RedirectActionConfig,
    RedirectActionStatusCodeEnum,
};

use super::{
    Forwarding, HTTP_PORT, HTTPS_PORT, NOT_FOUND_BODY, NOT_FOUND_STATUS, Redirect, Spec, State,
    redirect_to,
};
use crate::aws::kind::Cx;
use crate::aws::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Observed, desired};

/// The listeners of the stack's load balancer, :80 and :443.
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
    // :443 is the stack's only when stackctl made it (its tags say so): an HTTPS listener
    // someone added by hand to a stack without a domain is left alone.
    let https: Vec<String> = out
        .listeners()
        .iter()
        .filter(|l| l.port() == Some(HTTPS_PORT))
        .filter_map(|l| l.listener_arn().map(str::to_string))
        .collect();
    let owned = if https.is_empty() {
        Vec::new()
    } else {
        crate::aws::elb::owned(aws, names, &https).await?
    };
    Ok(out
        .listeners()
        .iter()
        .filter_map(|l| {
            let port = l.port()?;
            let arn = l.listener_arn()?;
            let key = match port {
                HTTP_PORT => desired::listener(),
                HTTPS_PORT if owned.iter().any(|(a, _)| a == arn) => desired::https_listener(),
                _ => return None,
            };
            let actions = l.default_actions();
            let redirect = actions.iter().find_map(|a| a.redirect_config()).map(|r| Redirect {
                protocol: r.protocol().unwrap_or("#{protocol}").into(),
                port: r.port().unwrap_or("#{port}").into(),
                host: r.host().unwrap_or("#{host}").into(),
                path: r.path().unwrap_or("/#{path}").into(),
                query: r.query().unwrap_or("#{query}").into(),
                status: r
                    .status_code()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
            Some(Observed {
                key,
                id: l.listener_arn()?.into(),
                name: format!("{}:{port}", names.load_balancer()),
                state: plan::State::Listener(State {
                    port,
                    protocol: l.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
                    target_group: crate::aws::elb::heaviest(&crate::aws::elb::forwards(actions)),
                    forwards: crate::aws::elb::forwards(actions),
                    redirect,
                    fixed: actions
                        .iter()
                        .find_map(|a| a.fixed_response_config())
                        .and_then(|f| f.status_code())
                        .map(str::to_string),
                    certificate: l
                        .certificates()
                        .first()
                        .and_then(|c| c.certificate_arn())
                        .map(str::to_string),
                    ssl_policy: l.ssl_policy().map(str::to_string),
                }),
            })
        })
        .collect())
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

/// The default action and certificates of `spec`, resolved to ARNs.
pub(super) fn settings_of(cx: &Cx<'_>, spec: &Spec) -> Result<(Action, Option<Vec<Certificate>>), AwsError> {
    let action = match &spec.action {
        Forwarding::Forward {
            target_group,
            alternate,
        } => {
            let other = alternate.as_ref().map(|a| cx.id(a)).transpose()?;
            crate::aws::elb::forward(cx.id(target_group)?, other)
        }
        Forwarding::Redirect { host } => {
            let r = redirect_to(host);
            let config = RedirectActionConfig::builder()
                .protocol(r.protocol)
                .port(r.port)
                .host(r.host)
                .path(r.path)
                .query(r.query)
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build();
            Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(config)
                .build()
        }
        Forwarding::NotFound => {
            let config = FixedResponseActionConfig::builder()
                .status_code(NOT_FOUND_STATUS)
                .content_type("text/plain")
                .message_body(NOT_FOUND_BODY)
                .build();
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(config)
                .build()
        }
    };
    let certs = spec
        .certificate
        .as_ref()
        .map(|c| {
            cx.id(c)
                .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
        })
        .transpose()?;
    Ok((action, certs))
}

