//! Questions the proxy asks the upstream before deciding how to answer: which security group
//! references another, and the account state behind `refusals` (subnets, gateways, target
//! groups).

use super::Shared;
use crate::classify::Call;
use crate::dependency;
use crate::refusals::{self, Probe};
use crate::wire::AwsError;
use bytes::Bytes;
use http::Request;

impl Shared {
    /// Asks the upstream a query-protocol question of `service` (`ec2`,
    /// `elasticloadbalancing`) with the caller's credentials (moto takes any signature; the
    /// credential scope names the service it routes to). The reply's body, if it succeeded.
    pub(super) async fn query(
        &self,
        parts: &http::request::Parts,
        service: &str,
        body: String,
    ) -> Option<Bytes> {
        let mut probe = Request::new(()).into_parts().0;
        probe.method = http::Method::POST;
        probe.uri = http::Uri::from_static("/");
        for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
            if let Some(v) = parts.headers.get(name) {
                probe.headers.insert(name, v.clone());
            }
        }
        if let Some(auth) = parts
            .headers
            .get("authorization")
            .and_then(|a| a.to_str().ok())
        {
            let scoped = auth
                .split(',')
                .map(|part| {
                    match part
                        .trim_start()
                        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
                    {
                        Some(cred) => {
                            let mut fields: Vec<&str> = cred.split('/').collect();
                            if fields.len() == 5 {
                                fields[3] = service;
                            }
                            format!("AWS4-HMAC-SHA256 Credential={}", fields.join("/"))
                        }
                        None => part.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(",");
            probe.headers.insert("authorization", scoped.parse().ok()?);
        }
        probe.headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .ok()?,
        );
        let reply = self.forward(&probe, Bytes::from(body)).await.ok()?;
        reply.status.is_success().then_some(reply.body)
    }

    /// Asks the upstream which group references `group`.
    pub(super) async fn sg_referenced_by(
        &self,
        parts: &http::request::Parts,
        group: &str,
    ) -> Option<String> {
        let body = "Action=DescribeSecurityGroups&Version=2016-11-15".to_string();
        let reply = self.query(parts, "ec2", body).await?;
        dependency::referencing_group(&reply, group)
    }

    /// A refusal (or AWS's own answer) that needs the account's state, from the upstream.
    pub(super) async fn probed(
        &self,
        parts: &http::request::Parts,
        call: &Call,
    ) -> Option<Result<Bytes, AwsError>> {
        let probe = refusals::probe(call)?;
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        match &probe {
            Probe::AlbSubnets(_) => {
                let body = refusals::probe_body(&probe).pop()?;
                let subnets = refusals::subnets(&text(&self.query(parts, "ec2", body).await?));
                let mut gateways = std::collections::HashMap::new();
                for (_, vpc, _, _) in &subnets {
                    if !gateways.contains_key(vpc) {
                        let reply = self
                            .query(parts, "ec2", refusals::gateway_probe(vpc))
                            .await?;
                        gateways.insert(vpc.clone(), refusals::has_attached_gateway(&text(&reply)));
                    }
                }
                refusals::alb_subnets_refused(&subnets, |vpc| gateways.get(vpc) == Some(&true))
                    .map(Err)
            }
            Probe::TargetGroup(_) => {
                let body = refusals::probe_body(&probe).pop()?;
                let reply = self.query(parts, "elasticloadbalancing", body).await?;
                refusals::same_target_group(call, &text(&reply)).map(|xml| Ok(Bytes::from(xml)))
            }
        }
    }
}
