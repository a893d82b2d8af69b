//! The domain's alias A record, pointing at the load balancer. Route 53 records carry no tags:
//! the record is the stack's when it points at the stack's load balancer (named after the
//! stack), and it is found through the certificate, whose tag names its zone. A record at the
//! name that points elsewhere is never touched.

use aws_sdk_route53::types::{ChangeAction, ResourceRecordSet, RrType};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::Permission;
use super::route53::{self, plain};
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// `domain` → the load balancer, as an alias record.
pub struct DnsRecord;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub zone: String,
    pub domain: String,
    pub load_balancer: Key,
    /// The HTTPS listener: the name points at the load balancer once it serves HTTPS.
    pub listener: Key,
    /// The load balancer's DNS name, when it exists already.
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub zone: String,
    pub domain: String,
    /// The alias target as Route 53 returns it, and its hosted zone.
    pub target: String,
    pub target_zone: String,
    pub evaluate_health: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    PointAtLoadBalancer,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::PointAtLoadBalancer => write!(f, "point at the load balancer"),
        }
    }
}

/// Route 53 answers with the load balancer's addresses only while it has healthy targets.
pub const EVALUATE_TARGET_HEALTH: bool = true;

impl Resource for DnsRecord {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    // Its calls are the certificate's (route53:*), and DescribeLoadBalancers.
    const PERMISSIONS: &'static [Permission] = &[];

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.load_balancer.clone(), spec.listener.clone()]
    }

    /// Before what it points at, and before the certificate that leads `find` to it.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(
            other,
            Kind::LoadBalancer | Kind::Listener | Kind::Certificate
        )
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if want.zone != have.zone {
            return Err(format!(
                "it is in hosted zone {}, stack.yaml's zone is {}: run `stackctl down` and `up` again to move the domain",
                have.zone, want.zone
            ));
        }
        let same = want
            .target
            .as_deref()
            .is_some_and(|t| same_target(t, &have.target));
        Ok(if same && have.evaluate_health == EVALUATE_TARGET_HEALTH {
            vec![]
        } else {
            vec![Fix::PointAtLoadBalancer]
        })
    }

    fn summary(have: &State) -> String {
        format!("{} → {}", have.domain, plain(&have.target))
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "type": "A",
            "alias": true,
            "evaluate_target_health": EVALUATE_TARGET_HEALTH,
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            zone: spec.zone.clone(),
            domain: spec.domain.clone(),
            target: format!("{}.", spec.target.clone().unwrap_or_default()),
            target_zone: "Z35SXDOTRQ7X7K".into(),
            evaluate_health: EVALUATE_TARGET_HEALTH,
        }
    }

    /// Found with the certificate ([`find`]).
    async fn find(_: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(Vec::new())
    }

    async fn create(cx: &Cx<'_>, _: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        if let Some(set) = route53::record(cx.aws, &spec.zone, &spec.domain, RrType::A).await? {
            let target = set.alias_target().map(|a| a.dns_name()).unwrap_or("(not an alias)");
            if !cx.names.owns_alias(target, &cx.aws.region) {
                let mut e = AwsError::new(
                    "point",
                    &spec.domain,
                    format!(
                        "the zone already has an A record for it, pointing at {target}, which stackctl did not make"
                    ),
                );
                e.hint = Some(
                    "delete that record if it is no longer used, or choose another `domain` in stack.yaml"
                        .into(),
                );
                return Err(e);
            }
        }
        point(cx, spec).await?;
        Ok(id(&spec.zone, &spec.domain))
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        _: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::PointAtLoadBalancer => point(cx, want).await,
        }
    }

    /// With the exact values it has (Route 53 refuses a delete that differs).
    async fn delete(cx: &Cx<'_>, _: &Observed, state: &State) -> Result<(), AwsError> {
        let set = route53::alias(
            &state.domain,
            &state.target,
            &state.target_zone,
            state.evaluate_health,
        );
        let change = route53::change_of(ChangeAction::Delete, set);
        match route53::change(cx.aws, &state.zone, &state.domain, vec![change]).await {
            Err(e) if e.message.contains("not found") => Ok(()),
            other => other,
        }
    }
}

fn id(zone: &str, domain: &str) -> String {
    format!("{zone}/{domain}")
}

/// Alias targets compare without case, the root's dot and Route 53's `dualstack.` prefix.
fn same_target(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = plain(s);
        s.strip_prefix("dualstack.").map(str::to_string).unwrap_or(s)
    };
    norm(a) == norm(b)
}

/// UPSERT the alias to the load balancer's DNS name and canonical zone.
async fn point(cx: &Cx<'_>, spec: &Spec) -> Result<(), AwsError> {
    let arn = cx.id(&spec.load_balancer)?;
    let out = cx
        .aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .ctx("describe load balancer", &arn)?;
    let lb = out
        .load_balancers()
        .first()
        .ok_or_else(|| AwsError::new("describe load balancer", &arn, "not found"))?;
    let (Some(dns), Some(zone)) = (lb.dns_name(), lb.canonical_hosted_zone_id()) else {
        return Err(AwsError::new(
            "describe load balancer",
            &arn,
            "no DNS name yet",
        ));
    };
    let set = route53::alias(&spec.domain, dns, zone, EVALUATE_TARGET_HEALTH);
    let change = route53::change_of(ChangeAction::Upsert, set);
    route53::change(cx.aws, &spec.zone, &spec.domain, vec![change]).await
}

/// The stack's alias record for `domain` in the zone, if it points at the stack's load
/// balancer.
pub async fn find(
    aws: &Aws,
    names: &Names,
    zone: &str,
    domain: &str,
) -> Result<Vec<Observed>, AwsError> {
    let set: Option<ResourceRecordSet> = route53::record(aws, zone, domain, RrType::A).await?;
    let Some(alias) = set.as_ref().and_then(|s| s.alias_target()) else {
        return Ok(vec![]);
    };
    if !names.owns_alias(alias.dns_name(), &aws.region) {
        return Ok(vec![]);
    }
    Ok(vec![Observed {
        key: Key::new(Kind::DnsRecord, domain),
        id: id(zone, domain),
        name: domain.to_string(),
        state: plan::State::DnsRecord(State {
            zone: zone.to_string(),
            domain: domain.to_string(),
            target: alias.dns_name().to_string(),
            target_zone: alias.hosted_zone_id().to_string(),
            evaluate_health: alias.evaluate_target_health(),
        }),
    }])
}
