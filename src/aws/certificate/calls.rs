//! ACM's and Route 53's calls for the certificate: finding the stack's, requesting one,
//! its validation record, and waiting until it is issued.

use std::time::{Duration, Instant};

use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Tag, ValidationMethod};
use aws_sdk_route53::types::{ChangeAction, RrType};

use super::{RECORD_TTL, Spec, State, gave_up};
use crate::aws::retry::{Backoff, retry};
use crate::aws::route53::{self, plain};
use crate::aws::{Aws, AwsError, Ctx, Outcome, dns_record};
use crate::names::{Names, TAG_ZONE};
use crate::plan::{self, Key, Kind, Observed};

/// Every certificate of the account in the region: (ARN, the names it is for).
pub(super) async fn list(aws: &Aws) -> Result<Vec<(String, Vec<String>)>, AwsError> {
    let mut all = Vec::new();
    let mut pages = aws.acm.list_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list certificates", "of the region")?;
        for c in page.certificate_summary_list() {
            if let Some(arn) = c.certificate_arn() {
                let mut names: Vec<String> = c.domain_name().map(plain).into_iter().collect();
                names.extend(c.subject_alternative_name_summaries().iter().map(|n| plain(n)));
                all.push((arn.to_string(), names));
            }
        }
    }
    Ok(all)
}

/// The certificate as ACM describes it (None: gone).
pub(super) async fn describe(aws: &Aws, arn: &str) -> Result<Option<CertificateDetail>, AwsError> {
    let out = aws
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .ctx("describe certificate", arn)
        .ok_if_not_found()?;
    Ok(out.and_then(|o| o.certificate().cloned()))
}

/// The stack's certificates (by their tags), and the domain records they lead to.
pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let mut found = Vec::new();
    // Two certificates of one name (a lost reply) lead to one record: read it once.
    let mut looked = std::collections::BTreeSet::new();
    for (arn, _) in list(aws).await? {
        let tags = aws
            .acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .ctx("list tags of certificate", &arn)
            .ok_if_not_found()?;
        let Some(tags) = tags else { continue };
        let pairs: Vec<(&str, &str)> = tags
            .tags()
            .iter()
            .map(|t| (t.key(), t.value().unwrap_or_default()))
            .collect();
        if !names.owns(pairs.iter().copied()) {
            continue;
        }
        let zone = pairs
            .iter()
            .find(|(k, _)| *k == TAG_ZONE)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        let Some(c) = describe(aws, &arn).await? else {
            continue;
        };
        let domain = plain(c.domain_name().unwrap_or_default());
        let status = c.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        let record = record_of(&c);
        // Is the record ACM validates with there? Pending, ACM waits for it; issued, ACM
        // renews with it. One ACM has not published yet counts as missing.
        let record_written = match (&record, status.as_str()) {
            (None, "PENDING_VALIDATION") => Some(false),
            (Some((name, value)), "PENDING_VALIDATION" | "ISSUED") if !zone.is_empty() => Some(
                route53::record(aws, &zone, name, RrType::Cname)
                    .await?
                    .is_some_and(|r| {
                        r.resource_records()
                            .iter()
                            .any(|v| plain(v.value()) == plain(value))
                    }),
            ),
            _ => None,
        };
        if !zone.is_empty() && looked.insert((zone.clone(), domain.clone())) {
            found.extend(dns_record::find(aws, names, &zone, &domain).await?);
        }
        found.push(Observed {
            key: Key::new(Kind::Certificate, &domain),
            id: arn.clone(),
            name: domain.clone(),
            state: plan::State::Certificate(State {
                domain,
                status,
                failure: c.failure_reason().map(|f| f.as_str().to_string()),
                zone,
                record,
                record_written,
            }),
        });
    }
    Ok(found)
}

pub(super) fn record_of(c: &CertificateDetail) -> Option<(String, String)> {
    c.domain_validation_options()
        .iter()
        .find_map(|o| o.resource_record())
        .map(|r| (r.name().to_string(), r.value().to_string()))
}

pub(super) async fn request(aws: &Aws, names: &Names, key: &Key, spec: &Spec) -> Result<String, AwsError> {
    let mut tags: Vec<Tag> = names
        .tags(&key.0, &spec.domain)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| AwsError::new("tag certificate", &spec.domain, e.to_string()))?;
    tags.push(
        Tag::builder()
            .key(TAG_ZONE)
            .value(&spec.zone)
            .build()
            .map_err(|e| AwsError::new("tag certificate", &spec.domain, e.to_string()))?,
    );
    let out = aws
        .acm
        .request_certificate()
        .domain_name(&spec.domain)
        .validation_method(ValidationMethod::Dns)
        // One token per request: a retry of a lost reply gets the same certificate, and a
        // request after `down` (ACM keeps a token an hour) a new one.
        .idempotency_token(format!("{:032x}", rand::random::<u128>()))
        .set_tags(Some(tags))
        .send()
        .await
        .ctx("request certificate for", &spec.domain)?;
    out.certificate_arn()
        .map(str::to_string)
        .ok_or_else(|| AwsError::new("request certificate for", &spec.domain, "no ARN in reply"))
}

/// The CNAME ACM validates with. The certificate, then its record, show a few seconds after
/// the request (ACM API Reference, RequestCertificate: "there is a delay of several seconds
/// before you can retrieve information about the new certificate").
pub(super) async fn validation_record(aws: &Aws, arn: &str) -> Result<(String, String), AwsError> {
    retry(
        Backoff::PROPAGATION,
        |e| e.code() == "NoRecordYet" || e.is_not_found(),
        || async {
            let c = describe(aws, arn).await?.ok_or_else(|| AwsError {
                code: Some("ResourceNotFoundException".into()),
                ..AwsError::new("describe certificate", arn, "not found yet")
            })?;
            record_of(&c).ok_or_else(|| AwsError {
                code: Some("NoRecordYet".into()),
                ..AwsError::new("read validation record of", arn, "ACM has not made it yet")
            })
        },
    )
    .await
}

pub(super) async fn write_record(
    aws: &Aws,
    zone: &str,
    domain: &str,
    name: &str,
    value: &str,
) -> Result<(), AwsError> {
    let record = route53::cname(name, value, RECORD_TTL);
    let change = route53::change_of(ChangeAction::Upsert, record);
    route53::change(aws, zone, &format!("validate {domain}"), vec![change]).await
}

/// Deletes the validation record as it is (Route 53 wants the exact values).
pub(super) async fn delete_record(
    aws: &Aws,
    zone: &str,
    domain: &str,
    name: &str,
    value: &str,
) -> Result<(), AwsError> {
    let Some(set) = route53::record(aws, zone, name, RrType::Cname).await? else {
        return Ok(());
    };
    if !set
        .resource_records()
        .iter()
        .any(|v| plain(v.value()) == plain(value))
    {
        return Ok(()); // someone else's value now: not ours to delete
    }
    let change = route53::change_of(ChangeAction::Delete, set);
    route53::change(aws, zone, &format!("validation of {domain}"), vec![change]).await
}

/// Whether another certificate of the account for this name relies on the same record
/// (`*.example.com` is validated by `example.com`'s).
pub(super) async fn shared_record(aws: &Aws, arn: &str, domain: &str) -> Result<bool, AwsError> {
    let wildcard = format!("*.{domain}");
    Ok(list(aws).await?.iter().any(|(a, names)| {
        a != arn && names.iter().any(|d| d == domain || *d == wildcard)
    }))
}

/// Wait until ACM has issued the certificate, reporting its status; fails when ACM gives up
/// or `timeout` passes (with what to check: the zone's delegation).
pub async fn wait_issued(
    aws: &Aws,
    arn: &str,
    zone: &str,
    timeout: Duration,
    report: impl Fn(&str),
) -> Result<(), AwsError> {
    let start = Instant::now();
    let pause = Duration::from_secs_f64(5.0 * Backoff::scaled());
    loop {
        let c = describe(aws, arn).await?;
        let c = c.as_ref();
        let status = c.and_then(|c| c.status()).cloned();
        let waited = start.elapsed().as_secs();
        match status {
            Some(CertificateStatus::Issued) => return Ok(()),
            Some(CertificateStatus::PendingValidation) | None => {
                report(&format!(
                    "ACM: pending validation ({}m{:02}s)",
                    waited / 60,
                    waited % 60
                ));
            }
            Some(other) => {
                let state = State {
                    domain: String::new(),
                    status: other.as_str().into(),
                    failure: c
                        .and_then(|c| c.failure_reason())
                        .map(|f| f.as_str().to_string()),
                    zone: zone.into(),
                    record: None,
                    record_written: None,
                };
                let why = gave_up(&state).unwrap_or_else(|| format!("it is {}", other.as_str()));
                return Err(AwsError::new("wait for certificate", arn, why));
            }
        }
        if start.elapsed() >= timeout {
            let servers = route53::name_servers(aws, zone).await.unwrap_or_default();
            let mut e = AwsError::new(
                "wait for certificate",
                arn,
                format!(
                    "ACM has not validated the domain after {} minutes",
                    timeout.as_secs() / 60
                ),
            );
            e.hint = Some(format!(
                "ACM reads the validation record through public DNS: the registrar must list the zone's name servers ({}); check with `dig NS <zone>`, then run `stackctl up` again (it goes on waiting), or raise `domain.wait_minutes`",
                if servers.is_empty() {
                    "see `aws route53 get-hosted-zone`".to_string()
                } else {
                    servers.join(", ")
                }
            ));
            return Err(e);
        }
        tokio::time::sleep(pause).await;
    }
}
