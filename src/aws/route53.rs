//! Route 53: finding the public hosted zone of a domain, reading one record set, and changing
//! records in one atomic batch. Zones are the user's: stackctl never creates or deletes one.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use super::{Aws, AwsError, Ctx, Outcome};

/// A public hosted zone: its id (without `/hostedzone/`) and name (lowercase, no final dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// Names compare lowercase without the root's dot (Route 53 returns `example.com.`).
pub fn plain(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The public zone for `domain`: `pinned`, or the one whose name is its longest suffix.
/// ListHostedZonesByName lists zones in order from a name, it does not filter by it (Route 53
/// API Reference): each candidate is asked for with MaxItems 2 (a public and a private zone
/// may share a name) and the names compared.
pub async fn find_zone(aws: &Aws, domain: &str, pinned: Option<&str>) -> Result<Zone, AwsError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let candidates: Vec<String> = match pinned {
        Some(z) => vec![z.to_string()],
        // `api.example.com`, `example.com` (never the top-level domain alone).
        None => (0..labels.len().saturating_sub(1))
            .map(|i| labels[i..].join("."))
            .collect(),
    };
    let mut private = None;
    for name in &candidates {
        let out = aws
            .route53
            .list_hosted_zones_by_name()
            .dns_name(name)
            .max_items(2)
            .send()
            .await
            .ctx("list hosted zones named", name)?;
        for z in out.hosted_zones() {
            if plain(z.name()) != *name {
                continue;
            }
            if z.config().is_some_and(|c| c.private_zone()) {
                private = Some(name.clone());
                continue;
            }
            return Ok(Zone {
                id: z.id().trim_start_matches("/hostedzone/").to_string(),
                name: name.clone(),
            });
        }
    }
    let parent = labels[1..].join(".");
    let mut e = AwsError::new(
        "find the public hosted zone of",
        domain,
        match (&private, pinned) {
            (Some(p), _) => format!("the zone `{p}` is private: the internet cannot resolve it"),
            (None, Some(z)) => format!("this account has no public Route 53 hosted zone `{z}`"),
            (None, None) => format!(
                "this account has no public Route 53 hosted zone for it (looked for {})",
                candidates.join(", ")
            ),
        },
    );
    e.hint = Some(format!(
        "create one (`aws route53 create-hosted-zone --name {parent} --caller-reference $(date +%s)`), then set your registrar's name servers for {parent} to the four the zone lists; README, \"Your own domain over HTTPS\""
    ));
    Err(e)
}

/// The name servers Route 53 answers for the zone on: what the registrar must list.
pub async fn name_servers(aws: &Aws, zone_id: &str) -> Result<Vec<String>, AwsError> {
    let out = aws
        .route53
        .get_hosted_zone()
        .id(zone_id)
        .send()
        .await
        .ctx("get hosted zone", zone_id)?;
    Ok(out
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default())
}

/// The record set of `name` and `kind` in the zone, if there is one.
pub async fn record(
    aws: &Aws,
    zone_id: &str,
    name: &str,
    kind: RrType,
) -> Result<Option<ResourceRecordSet>, AwsError> {
    let out = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(kind.clone())
        .max_items(1)
        .send()
        .await
        .ctx("list records of zone", zone_id)
        .ok_if_not_found()?;
    Ok(out.and_then(|o| {
        o.resource_record_sets()
            .iter()
            .find(|r| plain(r.name()) == plain(name) && *r.r#type() == kind)
            .cloned()
    }))
}

/// One change batch: Route 53 makes all of it or none.
pub async fn change(
    aws: &Aws,
    zone_id: &str,
    what: &str,
    changes: Vec<Change>,
) -> Result<(), AwsError> {
    let batch = ChangeBatch::builder()
        .comment(format!("stackctl: {what}"))
        .set_changes(Some(changes))
        .build()
        .map_err(|e| AwsError::new("build change of", what, e.to_string()))?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .ctx("change records:", what)?;
    Ok(())
}

/// A change of `set`.
pub fn change_of(action: ChangeAction, set: ResourceRecordSet) -> Change {
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .expect("action and set given")
}

/// A CNAME record (ACM's validation record).
pub fn cname(name: &str, value: &str, ttl: i64) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(ttl)
        .resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("value"),
        )
        .build()
        .expect("name and type given")
}

/// An alias A record to a load balancer (`zone`: its canonical hosted zone).
pub fn alias(name: &str, dns_name: &str, zone: &str, evaluate: bool) -> ResourceRecordSet {
    let target = AliasTarget::builder()
        .hosted_zone_id(zone)
        .dns_name(dns_name)
        .evaluate_target_health(evaluate)
        .build()
        .expect("alias target fields given");
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .alias_target(target)
        .build()
        .expect("name and type given")
}
