//! Read everything the stack owns, concurrently, with a bounded number of calls.

use std::collections::BTreeSet;

use futures::future::try_join_all;

use crate::aws::{self, Aws, AwsError, registry};
use crate::config::Stack;
use crate::plan::{Facts, Kind, Observed, State, desired, zones};

pub struct Observation {
    pub facts: Facts,
    pub resources: Vec<Observed>,
    /// Why the domain's hosted zone was not found: fatal to planning, not to `down`, which
    /// finds the records through the certificate.
    pub zone_error: Option<AwsError>,
    /// The caller's ARN.
    pub caller: String,
}

impl Observation {
    /// The facts to plan with: every one of them known.
    pub fn plannable(&mut self) -> Result<&Facts, AwsError> {
        match self.zone_error.take() {
            Some(e) => Err(e),
            None => Ok(&self.facts),
        }
    }
}

pub async fn observe(aws: &Aws, stack: &Stack) -> Result<Observation, AwsError> {
    let names = stack.names();
    let path = desired::role_path(stack);
    // Every kind at once.
    let kinds = Kind::ALL.iter().copied();
    let (identity, found) = tokio::try_join!(
        aws.identity(),
        try_join_all(kinds.map(|k| registry::find(k, aws, &names, &path)))
    )?;
    let resources: Vec<Observed> = found.concat();
    let subnets: Vec<Observed> = resources
        .iter()
        .filter(|o| o.state.kind() == Kind::Subnet)
        .cloned()
        .collect();
    let params: Vec<Observed> = resources
        .iter()
        .filter(|o| o.state.kind() == Kind::Parameter)
        .cloned()
        .collect();
    let caller = identity.arn;
    let mut facts = Facts {
        account: identity.account,
        region: aws.region.clone(),
        partition: identity.partition,
        zones: zones(aws, stack, &subnets).await?,
        images: Default::default(),
        tokens: aws::ssm::generations(&names, &params),
        database: resources.iter().find_map(|o| match &o.state {
            State::DbInstance(s) => s.connection(),
            _ => None,
        }),
        zone: None,
        load_balancer_dns: resources.iter().find_map(|o| match &o.state {
            State::LoadBalancer(s) if !s.dns_name.is_empty() => Some(s.dns_name.clone()),
            _ => None,
        }),
        live: crate::plan::live_groups(&resources),
    };
    let mut zone_error = None;
    if let Some(d) = &stack.domain {
        match aws::route53::find_zone(aws, &d.name, d.zone.as_deref()).await {
            Ok(zone) => facts.zone = Some(zone),
            Err(e) => zone_error = Some(e),
        }
    }
    Ok(Observation {
        facts,
        resources,
        zone_error,
        caller,
    })
}

/// Subnet `i` keeps the zone it is in; missing ones take the next unused zone that is
/// available, needs no opt-in and runs Fargate (one more call, only when a subnet is missing).
/// Zones pinned in stack.yaml are checked the same way and used as they are.
async fn zones(aws: &Aws, stack: &Stack, subnets: &[Observed]) -> Result<Vec<String>, AwsError> {
    let pinned = &stack.network.zones;
    if !pinned.is_empty() {
        let all = aws::subnet::zones(aws).await?;
        for name in pinned {
            let why = match all.iter().find(|z| &z.name == name) {
                None => Some("the region has no such zone"),
                Some(z) => zones::unusable(&aws.region, z),
            };
            if let Some(why) = why {
                let mut e = AwsError::new("place subnets in", format!("zone {name}"), why);
                e.hint = Some(format!(
                    "change `network.zones` in stack.yaml; usable zones here: {}",
                    zones::usable(&aws.region, &all).join(", ")
                ));
                return Err(e);
            }
        }
        return Ok(pinned.clone());
    }
    let wanted = stack.network.azs as usize;
    let existing: Vec<Option<String>> = (0..wanted)
        .map(|i| {
            subnets
                .iter()
                .find(|s| s.key == desired::subnet(i))
                .and_then(|s| {
                    let State::Subnet(aws::subnet::State { az, .. }) = &s.state else {
                        return None;
                    };
                    Some(az.clone())
                })
        })
        .collect();
    if existing.iter().all(Option::is_some) {
        return Ok(existing.into_iter().flatten().collect());
    }
    let used: BTreeSet<String> = existing.iter().flatten().cloned().collect();
    let all = aws::subnet::zones(aws).await?;
    let mut free = zones::usable(&aws.region, &all)
        .into_iter()
        .filter(|z| !used.contains(z));
    let zones: Vec<String> = existing
        .into_iter()
        .map(|z| z.or_else(|| free.next()).unwrap_or_default())
        .collect();
    if zones.iter().any(String::is_empty) {
        return Err(AwsError::new(
            "place",
            "subnets",
            format!(
                "region {} has fewer than {wanted} availability zones that are available, need no opt-in and run Fargate",
                aws.region
            ),
        ));
    }
    Ok(zones)
}
