//! The domain's ACM certificate, validated through DNS: the validation CNAME ACM asks for is
//! written into the domain's hosted zone, and goes with the certificate (unless another
//! certificate of the account uses it: ACM gives every certificate of a name the same record,
//! ACM User Guide, "DNS validation"). Its find also finds the domain's alias record, which is
//! in the zone its tag names.

use std::time::{Duration, Instant};

use aws_sdk_acm::types::{CertificateStatus, Tag, ValidationMethod};
use aws_sdk_route53::types::{ChangeAction, RrType};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, Permission, Scope};
use super::retry::{Backoff, retry};
use super::route53::{self, plain};
use super::{Aws, AwsError, Ctx, Outcome, dns_record};
use crate::names::{Names, TAG_ZONE};
use crate::plan::{self, Ids, Key, Kind, Observed};

/// An ACM certificate for the domain, with its DNS validation record.
pub struct Certificate;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub domain: String,
    /// The hosted zone (id) its validation record goes in.
    pub zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub domain: String,
    pub status: String,
    /// Why ACM failed it, when it did.
    pub failure: Option<String>,
    pub zone: String,
    /// The validation CNAME ACM asks for (name, value), once it says.
    pub record: Option<(String, String)>,
    /// Whether that record is in the zone (read only while the certificate is pending).
    pub record_written: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    WriteValidationRecord,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::WriteValidationRecord => write!(f, "write its DNS validation record"),
        }
    }
}

/// RSA 2048: what every client accepts (ALB does not take ED25519).
pub const KEY_ALGORITHM: &str = "RSA_2048";
/// The validation record's time to live.
pub const RECORD_TTL: i64 = 300;

impl Resource for Certificate {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    const SHARED: bool = false;
    // Certificates have generated ARNs: nothing to scope by name. Tagging on request needs
    // AddTagsToCertificate (ACM User Guide, "Tagging ACM certificates").
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("acm:ListCertificates", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("acm:ListTagsForCertificate", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("acm:DescribeCertificate", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("acm:RequestCertificate", Scope::Any, &[Up]),
            ("acm:AddTagsToCertificate", Scope::Any, &[Up]),
            ("acm:DeleteCertificate", Scope::Any, &[Up, Down]),
            ("route53:ListHostedZonesByName", Scope::Any, &[Up, RotateToken, Status]),
            ("route53:GetHostedZone", Scope::Any, &[Up]),
            ("route53:ListResourceRecordSets", Scope::Any, &[Up, RotateToken, Status, Down]),
            ("route53:ChangeResourceRecordSets", Scope::Any, &[Up, Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    /// The listener that serves it goes first (ACM refuses to delete a certificate in use).
    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        if let Some(why) = gave_up(have) {
            return Err(why);
        }
        if want.zone != have.zone {
            return Err(format!(
                "its records are in hosted zone {}, stack.yaml's zone is {}: run `stackctl down` and `up` again to move the domain",
                have.zone, want.zone
            ));
        }
        Ok(if have.record_written == Some(false) {
            vec![Fix::WriteValidationRecord]
        } else {
            vec![]
        })
    }

    fn summary(have: &State) -> String {
        format!("{} {}", have.domain, have.status)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "validation_method": ValidationMethod::Dns.as_str(),
            "key_algorithm": KEY_ALGORITHM,
            "validation_record_ttl": RECORD_TTL,
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            domain: spec.domain.clone(),
            status: "ISSUED".into(),
            failure: None,
            zone: spec.zone.clone(),
            record: Some((format!("_x.{}.", spec.domain), "_y.acm-validations.aws.".into())),
            record_written: None,
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, spec: &Spec) -> Result<String, AwsError> {
        let arn = request(cx.aws, cx.names, key, spec).await?;
        let (name, value) = validation_record(cx.aws, &arn).await?;
        write_record(cx.aws, &spec.zone, &spec.domain, &name, &value).await?;
        Ok(arn)
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::WriteValidationRecord => {
                let (name, value) = validation_record(cx.aws, &have.id).await?;
                write_record(cx.aws, &want.zone, &want.domain, &name, &value).await
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        let aws = cx.aws;
        if let Some((name, value)) = &state.record
            && !shared_record(aws, &have.id, &state.domain).await?
        {
            delete_record(aws, &state.zone, &state.domain, name, value).await?;
        }
        // The listener that served it was deleted a moment ago: ACM may not know yet.
        retry(
            Backoff::PROPAGATION,
            |e| e.code() == "ResourceInUseException",
            || async {
                aws.acm
                    .delete_certificate()
                    .certificate_arn(&have.id)
                    .send()
                    .await
                    .ctx("delete certificate", &have.id)
                    .ok_if_not_found()
            },
        )
        .await?;
        Ok(())
    }
}

/// Why ACM will not issue the certificate any more, if it will not.
fn gave_up(have: &State) -> Option<String> {
    let status = have.status.as_str();
    let why = match status {
        "FAILED" => format!(
            "ACM failed to issue it ({})",
            have.failure.as_deref().unwrap_or("no reason given")
        ),
        "VALIDATION_TIMED_OUT" => {
            "ACM could not validate the domain within 72 hours (VALIDATION_TIMED_OUT)".into()
        }
        "REVOKED" | "EXPIRED" | "INACTIVE" => format!("it is {status}"),
        _ => return None,
    };
    Some(format!(
        "{why}: check that the domain's zone is the one the registrar points at, then delete the certificate (`aws acm delete-certificate --certificate-arn <arn>`, `stackctl status` lists it) and run `stackctl up` again for a new one"
    ))
}

/// The stack's certificates (by their tags), and the domain records they lead to.
pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let mut arns = Vec::new();
    let mut pages = aws.acm.list_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list certificates", "of the region")?;
        for c in page.certificate_summary_list() {
            if let Some(arn) = c.certificate_arn() {
                arns.push(arn.to_string());
            }
        }
    }
    let mut found = Vec::new();
    for arn in arns {
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
        let out = aws
            .acm
            .describe_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .ctx("describe certificate", &arn)
            .ok_if_not_found()?;
        let Some(c) = out.as_ref().and_then(|o| o.certificate()) else {
            continue;
        };
        let domain = plain(c.domain_name().unwrap_or_default());
        let status = c.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        let record = record_of(c);
        // Pending: is the record ACM waits for there? (Once issued, it is not read again.)
        let record_written = match (&record, status.as_str()) {
            (Some((name, value)), "PENDING_VALIDATION") if !zone.is_empty() => Some(
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
        if !zone.is_empty() {
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

fn record_of(c: &aws_sdk_acm::types::CertificateDetail) -> Option<(String, String)> {
    c.domain_validation_options()
        .iter()
        .find_map(|o| o.resource_record())
        .map(|r| (r.name().to_string(), r.value().to_string()))
}

async fn request(aws: &Aws, names: &Names, key: &Key, spec: &Spec) -> Result<String, AwsError> {
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
        .idempotency_token(names.certificate_token(&spec.domain))
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
async fn validation_record(aws: &Aws, arn: &str) -> Result<(String, String), AwsError> {
    retry(
        Backoff::PROPAGATION,
        |e| e.code() == "NoRecordYet" || e.is_not_found(),
        || async {
            let out = aws
                .acm
                .describe_certificate()
                .certificate_arn(arn)
                .send()
                .await
                .ctx("describe certificate", arn)?;
            out.certificate().and_then(record_of).ok_or_else(|| AwsError {
                code: Some("NoRecordYet".into()),
                ..AwsError::new("read validation record of", arn, "ACM has not made it yet")
            })
        },
    )
    .await
}

async fn write_record(
    aws: &Aws,
    zone: &str,
    domain: &str,
    name: &str,
    value: &str,
) -> Result<(), AwsError> {
    let change = route53::change_of(ChangeAction::Upsert, route53::cname(name, value));
    route53::change(aws, zone, &format!("validate {domain}"), vec![change]).await
}

/// Deletes the validation record as it is (Route 53 wants the exact values).
async fn delete_record(
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

/// Whether another certificate of the account for this name relies on the same record.
async fn shared_record(aws: &Aws, arn: &str, domain: &str) -> Result<bool, AwsError> {
    let mut pages = aws.acm.list_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("list certificates", "of the region")?;
        if page.certificate_summary_list().iter().any(|c| {
            c.certificate_arn() != Some(arn)
                // `*.example.com` is validated by `example.com`'s record.
                && c.domain_name()
                    .map(plain)
                    .is_some_and(|d| d == domain || d == format!("*.{domain}"))
        }) {
            return Ok(true);
        }
    }
    Ok(false)
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
        let out = aws
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .ctx("describe certificate", arn)?;
        let c = out.certificate();
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
