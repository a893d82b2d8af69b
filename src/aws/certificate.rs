//! The domain's ACM certificate, validated through DNS: the validation CNAME ACM asks for is
//! written into the domain's hosted zone, and goes with the certificate (unless another
//! certificate of the account uses it: ACM gives every certificate of a name the same record,
//! ACM User Guide, "DNS validation"). Its find also finds the domain's alias record, which is
//! in the zone its tag names.

use aws_sdk_acm::types::ValidationMethod;
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{ANY_NEW, CERTIFICATES, Cmd, Permission, Scope};
use super::retry::{Backoff, retry};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{Ids, Key, Kind, Observed};

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
    // Certificates have generated ARNs: nothing to scope by name. Tagging on request needs
    // AddTagsToCertificate (ACM User Guide, "Tagging ACM certificates").
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("acm:ListCertificates", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("acm:ListTagsForCertificate", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("acm:DescribeCertificate", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("acm:RequestCertificate", Scope::New("RequestingTheStacksCertificate", ANY_NEW), &[Up]),
            // On a certificate carrying no stack's tag, as one just requested: one stackctl did
            // not make could be tagged as the stack's too (ACM refuses to delete one in use).
            ("acm:AddTagsToCertificate", Scope::New("TaggingTheStacksNewCertificate", CERTIFICATES), &[Up]),
            ("acm:DeleteCertificate", Scope::TaggedArns("TheStacksCertificates", CERTIFICATES), &[Up, Down]),
            ("route53:ListHostedZonesByName", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("route53:GetHostedZone", Scope::Any, &[Up]),
            ("route53:ListResourceRecordSets", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
            ("route53:ChangeResourceRecordSets", Scope::Records("TheStacksDomainRecords"), &[Up, Down]),
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

    /// The certificate, then its validation record (a certificate ACM still holds keeps the
    /// record it renews with), unless another certificate of the region for the name uses it.
    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        let aws = cx.aws;
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
        if let Some((name, value)) = &state.record
            && !shared_record(aws, &have.id, &state.domain).await?
        {
            delete_record(aws, &state.zone, &state.domain, name, value).await?;
        }
        Ok(())
    }
}

/// Why ACM will not issue the certificate any more, if it will not.
pub(super) fn gave_up(have: &State) -> Option<String> {
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

mod calls;
pub use calls::{find, wait_issued};
use calls::{delete_record, request, shared_record, validation_record, write_record};
