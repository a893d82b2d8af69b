//! AWS errors as "verb noun: cause", with the service's error code kept for decisions.

use std::error::Error;
use std::fmt::Display;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

#[derive(Debug, thiserror::Error)]
#[error("{op} {target}: {message}")]
pub struct AwsError {
    pub op: &'static str,
    pub target: String,
    pub code: Option<Box<str>>,
    /// One sentence, never a debug dump.
    pub message: String,
    pub hint: Option<String>,
    /// The SDK's whole error chain, shown with `--verbose`.
    pub detail: Option<Box<str>>,
}

impl AwsError {
    pub fn config(message: &str, hint: &str) -> AwsError {
        AwsError {
            op: "configure",
            target: "AWS".into(),
            code: None,
            message: message.into(),
            hint: Some(hint.into()),
            detail: None,
        }
    }

    pub fn new(op: &'static str, target: impl Display, message: impl Into<String>) -> AwsError {
        AwsError {
            op,
            target: target.to_string(),
            code: None,
            message: message.into(),
            hint: None,
            detail: None,
        }
    }

    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// The thing is not there (each service spells it its own way).
    pub fn is_not_found(&self) -> bool {
        let c = self.code();
        c.ends_with(".NotFound")
            || c.ends_with("NotFoundException")
            || c.ends_with("NotFound")
            || c == "NoSuchEntity"
            || c == "ParameterNotFound"
            || c == "ClusterNotFoundException"
    }

    pub fn is_dependency_violation(&self) -> bool {
        matches!(
            self.code(),
            "DependencyViolation"
                | "ResourceInUse"
                | "ResourceInUseException"
                | "DeleteConflict"
                // DeleteCluster while a deleted service's tasks are still stopping.
                | "ClusterContainsTasksException"
                | "ClusterContainsServicesException"
        )
    }

    pub fn is_already_exists(&self) -> bool {
        let c = self.code();
        c.ends_with(".Duplicate")
            || c.starts_with("Duplicate")
            || c.contains("AlreadyExists")
            || c == "EntityAlreadyExists"
            || c == "ParameterAlreadyExists"
    }
}

/// Attach "verb noun" context to an SDK result.
pub trait Ctx<T> {
    fn ctx(self, op: &'static str, target: impl Display) -> Result<T, AwsError>;
}

impl<T, E> Ctx<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn ctx(self, op: &'static str, target: impl Display) -> Result<T, AwsError> {
        self.map_err(|e| {
            let code: Option<Box<str>> = e.code().map(Into::into);
            let detail = Some(DisplayErrorContext(&e).to_string().into());
            if let Some(mut local) = local_failure(&e) {
                local.detail = detail;
                return local;
            }
            let status = e.raw_response().map(|r| r.status().as_u16());
            let message = match (e.code(), e.message(), status) {
                (Some(c), Some(m), _) => format!("{c}: {m}"),
                (Some(c), None, _) => c.to_string(),
                // An answer without an AWS error in it (a proxy's page, a gateway): its status.
                (None, _, Some(status)) => format!("HTTP {status} with no AWS error code"),
                (None, _, None) => format!("{e}: {}", innermost(&e)),
            };
            let hint = match status {
                Some(403) if code.is_none() => hint_for(Some("AccessDenied"), &message),
                _ => hint_for(code.as_deref(), &message),
            };
            AwsError {
                op,
                target: target.to_string(),
                code,
                message,
                hint,
                detail,
            }
        })
    }
}

/// The last cause in an error's chain, in its own words.
fn innermost(e: &(dyn Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Failures before any request reached AWS that a person fixes on their side: no credentials,
/// an expired SSO session, a broken AWS configuration. Told as such, whatever call met them.
pub fn local_failure(e: &(dyn Error + 'static)) -> Option<AwsError> {
    let mut cur = Some(e);
    let creds = loop {
        let err = cur?;
        if let Some(c) = err.downcast_ref::<CredentialsError>() {
            break c;
        }
        cur = err.source();
    };
    let cause = innermost(creds);
    let found = |message: String, hint: &str| AwsError {
        hint: Some(hint.into()),
        ..AwsError::new("load", "AWS credentials", message)
    };
    let lower = cause.to_ascii_lowercase();
    Some(if lower.contains("expired") {
        found(
            format!("the session has expired ({cause})"),
            "sign in again with `aws sso login` (add --profile NAME if you use one), then retry",
        )
    } else if matches!(creds, CredentialsError::InvalidConfiguration(_)) {
        found(
            format!("the AWS configuration is invalid: {cause}"),
            "check ~/.aws/config and ~/.aws/credentials, and that AWS_PROFILE (or --profile) names a profile defined there",
        )
    } else {
        found(
            "none were found; tried environment variables (AWS_ACCESS_KEY_ID), the shared config and credentials files (the profile in AWS_PROFILE or --profile, else `default`), SSO, web identity, and container and instance metadata".into(),
            "set up a profile with `aws configure sso` (or `aws configure`) and export AWS_PROFILE=NAME, or pass --profile NAME; `aws sts get-caller-identity` checks it",
        )
    })
}

fn hint_for(code: Option<&str>, message: &str) -> Option<String> {
    let h = match code {
        Some(
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "AuthFailure"
            | "SignatureDoesNotMatch",
        ) => {
            "your AWS credentials are not valid here: check `aws sts get-caller-identity` and --profile"
        }
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => {
            "your session expired: `aws sso login` (or refresh the credentials) and retry"
        }
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
            "the credentials lack a permission: `stackctl policy` prints the IAM policy stackctl needs for this stack"
        }
        Some("DependencyViolation") => {
            "something outside this stack still uses it (a network interface, or a rule in another security group): remove that, then run the command again"
        }
        Some(c) if c.contains("LimitExceeded") => {
            "an account quota is reached: see Service Quotas in the AWS console, or remove unused resources"
        }
        _ if message.contains("dispatch failure") || message.contains("connection") => {
            "AWS (or AWS_ENDPOINT_URL) could not be reached: check the network and the endpoint"
        }
        _ => return None,
    };
    Some(h.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::list_roles::ListRolesError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn failed(status: u16, meta: ErrorMetadata) -> AwsError {
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(""));
        let r: Result<(), _> = Err(SdkError::service_error(ListRolesError::generic(meta), raw));
        r.ctx("list", "IAM roles").unwrap_err()
    }

    #[test]
    fn an_answer_without_an_error_code_is_told_by_its_status_never_as_a_dump() {
        let e = failed(403, ErrorMetadata::builder().build());
        assert_eq!(
            e.to_string(),
            "list IAM roles: HTTP 403 with no AWS error code"
        );
        assert!(e.hint.unwrap().contains("`stackctl policy`"));
        let e = failed(502, ErrorMetadata::builder().build());
        assert_eq!(
            e.to_string(),
            "list IAM roles: HTTP 502 with no AWS error code"
        );
    }

    #[test]
    fn access_denied_points_at_the_policy_command() {
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: u is not authorized to perform: iam:ListRoles")
            .build();
        let e = failed(403, meta);
        assert_eq!(
            e.to_string(),
            "list IAM roles: AccessDenied: User: u is not authorized to perform: iam:ListRoles"
        );
        assert_eq!(e.code(), "AccessDenied");
        assert!(e.hint.unwrap().contains("`stackctl policy`"));
    }
}
