//! The load balancer's listeners: HTTP on :80 forwarding to the public service's target group;
//! with a domain, HTTPS on :443 with its certificate and an explicit modern security policy
//! (the API's default is still the 2016 one: ELB User Guide, "Security policies for your
//! Application Load Balancer"), and :80 answering 301 to `https://<domain>/…`.

use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, RedirectActionStatusCodeEnum};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, LISTENERS, Permission, Scope};
use super::{Aws, AwsError, Ctx, once};
use crate::names::Names;
use crate::plan::{Ids, Key, Kind, Observed};

/// One listener of the load balancer.
pub struct Listener;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub load_balancer: Key,
    pub port: i32,
    pub action: Forwarding,
    /// HTTPS: the certificate it serves.
    pub certificate: Option<Key>,
    /// What must serve before this one changes (the HTTPS listener, before :80 redirects).
    pub after: Option<Key>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Forwarding {
    /// To the service's target group; with `alternate`, to both of its groups, every request
    /// to `target_group` (the one production is on) until ECS moves them.
    Forward {
        target_group: Key,
        #[serde(skip_serializing_if = "Option::is_none")]
        alternate: Option<Key>,
    },
    /// 301 to `https://<host>:443/<path>?<query>`.
    Redirect { host: String },
    /// 404 for what no rule routes (no service is the default public one).
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub port: i32,
    pub protocol: String,
    /// The group that gets the most requests.
    pub target_group: Option<String>,
    /// Every group the default action forwards to, with its weight, by ARN.
    pub forwards: Vec<(String, i32)>,
    pub redirect: Option<Redirect>,
    /// The status of a fixed response.
    pub fixed: Option<String>,
    pub certificate: Option<String>,
    pub ssl_policy: Option<String>,
}

/// A redirect action as ELB reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redirect {
    pub protocol: String,
    pub port: String,
    pub host: String,
    pub path: String,
    pub query: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    /// One ModifyListener with every setting.
    Modify { changed: Vec<String> },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::Modify { changed } => write!(f, "set {}", changed.join(", ")),
        }
    }
}

pub const HTTP_PORT: i32 = 80;
/// What the listener answers when no rule routes a request and no service is the default.
pub const NOT_FOUND_STATUS: &str = "404";
pub const NOT_FOUND_BODY: &str = "Not Found: no service of this stack serves this path\n";
pub const HTTPS_PORT: i32 = 443;
/// TLS 1.3 and 1.2 with hybrid post-quantum key exchange: what AWS recommends today.
pub const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

impl Spec {
    fn protocol(&self) -> ProtocolEnum {
        if self.certificate.is_some() {
            ProtocolEnum::Https
        } else {
            ProtocolEnum::Http
        }
    }
}

/// The redirect the :80 listener answers with when the stack has a domain.
fn redirect_to(host: &str) -> Redirect {
    Redirect {
        protocol: "HTTPS".into(),
        port: HTTPS_PORT.to_string(),
        host: host.into(),
        path: "/#{path}".into(),
        query: "#{query}".into(),
        status: RedirectActionStatusCodeEnum::Http301.as_str().into(),
    }
}

impl Resource for Listener {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("elasticloadbalancing:DescribeListeners", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("elasticloadbalancing:CreateListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
            ("elasticloadbalancing:ModifyListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
            ("elasticloadbalancing:DeleteListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up, Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        let mut d = vec![spec.load_balancer.clone()];
        if let Forwarding::Forward {
            target_group,
            alternate,
        } = &spec.action
        {
            d.push(target_group.clone());
            d.extend(alternate.iter().cloned());
        }
        d.extend(spec.certificate.iter().cloned());
        d.extend(spec.after.iter().cloned());
        d
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(
            other,
            Kind::LoadBalancer | Kind::TargetGroup | Kind::Certificate
        )
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let mut changed = Vec::new();
        match &want.action {
            Forwarding::Forward {
                target_group,
                alternate,
            } => {
                let mut want: Vec<Option<&String>> = vec![ids.get(target_group)];
                want.extend(alternate.iter().map(|a| ids.get(a)));
                want.sort();
                let have_groups: Vec<Option<&String>> =
                    have.forwards.iter().map(|(g, _)| Some(g)).collect();
                // ECS moves the weights between the pair: only the groups count.
                if want.contains(&None) || want != have_groups {
                    changed.push(match alternate {
                        None => format!("forward to {target_group}"),
                        Some(a) => format!("forward to {target_group} and {a}"),
                    });
                }
            }
            Forwarding::Redirect { host } => {
                if have.redirect.as_ref() != Some(&redirect_to(host)) {
                    changed.push(format!("redirect to https://{host}"));
                }
            }
            Forwarding::NotFound => {
                if have.fixed.as_deref() != Some(NOT_FOUND_STATUS) {
                    changed.push(format!("answer {NOT_FOUND_STATUS} when no rule routes"));
                }
            }
        }
        if have.protocol != want.protocol().as_str() {
            changed.push(want.protocol().as_str().to_string());
        }
        if let Some(cert) = &want.certificate {
            let arn = ids.get(cert);
            if arn.is_none() || arn != have.certificate.as_ref() {
                changed.push(format!("certificate {cert}"));
            }
            if have.ssl_policy.as_deref() != Some(SSL_POLICY) {
                changed.push(format!("security policy {SSL_POLICY}"));
            }
        }
        Ok(if changed.is_empty() {
            vec![]
        } else {
            vec![Fix::Modify { changed }]
        })
    }

    fn summary(have: &State) -> String {
        match (&have.redirect, &have.target_group) {
            (Some(r), _) => format!("{}:{} → 301 https://{}", have.protocol, have.port, r.host),
            (None, None) if have.fixed.is_some() => {
                format!("{}:{} → {} unless routed", have.protocol, have.port, NOT_FOUND_STATUS)
            }
            _ => match &have.ssl_policy {
                Some(policy) if have.protocol == "HTTPS" => {
                    format!("{}:{} {policy}", have.protocol, have.port)
                }
                _ => format!("{}:{}", have.protocol, have.port),
            },
        }
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        let action = match &spec.action {
            Forwarding::Forward {
                target_group,
                alternate: None,
            } => {
                json!({ "type": "forward", "target_group": target_group })
            }
            Forwarding::Forward {
                target_group,
                alternate: Some(a),
            } => {
                json!({ "type": "forward", "target_groups": [{ "target_group": target_group, "weight": 100 }, { "target_group": a, "weight": 0 }] })
            }
            Forwarding::Redirect { host } => {
                let r = redirect_to(host);
                json!({ "type": "redirect", "protocol": r.protocol, "port": r.port, "host": r.host, "path": r.path, "query": r.query, "status_code": r.status })
            }
            Forwarding::NotFound => {
                json!({ "type": "fixed-response", "status_code": NOT_FOUND_STATUS, "content_type": "text/plain" })
            }
        };
        json!({
            "protocol": spec.protocol().as_str(),
            "port": spec.port,
            "ssl_policy": spec.certificate.as_ref().map(|_| SSL_POLICY),
            "default_action": action,
        })
    }

    /// Listeners are listed per load balancer: the load balancer's find finds them.
    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            port: spec.port,
            protocol: spec.protocol().as_str().into(),
            target_group: match &spec.action {
                Forwarding::Forward { target_group, .. } => Some(id(target_group)),
                _ => None,
            },
            forwards: match &spec.action {
                Forwarding::Forward {
                    target_group,
                    alternate,
                } => {
                    let mut f = vec![(id(target_group), if alternate.is_some() { 100 } else { 1 })];
                    f.extend(alternate.iter().map(|a| (id(a), 0)));
                    f.sort();
                    f
                }
                _ => vec![],
            },
            redirect: match &spec.action {
                Forwarding::Redirect { host } => Some(redirect_to(host)),
                _ => None,
            },
            fixed: matches!(spec.action, Forwarding::NotFound).then(|| NOT_FOUND_STATUS.into()),
            certificate: spec.certificate.as_ref().map(id),
            ssl_policy: spec.certificate.as_ref().map(|_| SSL_POLICY.into()),
        }
    }

    async fn find(_: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(Vec::new())
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        let lb = cx.id(&spec.load_balancer)?;
        let name = format!("{}:{}", cx.names.load_balancer(), spec.port);
        let (action, certs) = settings_of(cx, spec)?;
        let req = cx
            .aws
            .elb
            .create_listener()
            .load_balancer_arn(&lb)
            .protocol(spec.protocol())
            .port(spec.port)
            .default_actions(action)
            .set_certificates(certs)
            .set_ssl_policy(spec.certificate.as_ref().map(|_| SSL_POLICY.to_string()))
            .set_tags(Some(super::tags(cx.names, &key.0, &name)?));
        let (aws, names) = (cx.aws, cx.names);
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
            || find(aws, names, Some(&lb)),
        )
        .await
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        state: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::Modify { changed } => {
                let (action, certs) = settings_of(cx, want)?;
                // Forwarding to the same groups: the action is left out, so that the weights
                // ECS is moving stay (a certificate or policy change mid-deployment).
                let same = matches!(want.action, Forwarding::Forward { .. })
                    && !changed.iter().any(|c| c.starts_with("forward to"))
                    && !state.forwards.is_empty();
                cx.aws
                    .elb
                    .modify_listener()
                    .listener_arn(&have.id)
                    .protocol(want.protocol())
                    .port(want.port)
                    .set_default_actions((!same).then(|| vec![action]))
                    .set_certificates(certs)
                    .set_ssl_policy(want.certificate.as_ref().map(|_| SSL_POLICY.to_string()))
                    .send()
                    .await
                    .ctx("modify listener", &have.id)?;
                Ok(())
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

mod calls;
pub use calls::{delete, find};
use calls::settings_of;
