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

    /// Not done yet: what a wait retries ([`AwsError::is_pending`]).
    pub fn pending(op: &'static str, target: impl Display) -> AwsError {
        AwsError {
            code: Some("Pending".into()),
            ..AwsError::new(op, target, "not done yet")
        }
    }

    pub fn is_pending(&self) -> bool {
        self.code() == "Pending"
    }

    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// What the error means, whatever the service's spelling of it.
    pub fn class(&self) -> Class {
        classify(self.code(), &self.message)
    }

    pub fn is_not_found(&self) -> bool {
        self.class() == Class::NotFound
    }

    pub fn is_dependency_violation(&self) -> bool {
        self.class() == Class::DependencyViolation
    }

    pub fn is_already_exists(&self) -> bool {
        self.class() == Class::AlreadyExists
    }

    pub fn is_propagating(&self) -> bool {
        self.class() == Class::Propagating
    }
}

/// What an AWS error means to the caller. Every service spells these its own way; they are
/// told apart here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The thing is not there (or no longer: a deleted ECS service is "not active").
    NotFound,
    /// It exists already, possibly made by our own attempt whose reply was lost.
    AlreadyExists,
    /// Something else still uses it; AWS lets go after a while (network interfaces draining).
    DependencyViolation,
    /// Too many requests: slow down and retry.
    Throttled,
    /// Something just created has not reached the service that needs it yet (IAM roles).
    Propagating,
    Other,
}

/// Error codes that mean "slow down", not "no".
pub const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
];

fn classify(code: &str, message: &str) -> Class {
    let lower = message.to_ascii_lowercase();
    match code {
        c if c.ends_with(".NotFound")
            || c.ends_with("NotFoundException")
            || c.ends_with("NotFound")
            // RDS: DBSubnetGroupNotFoundFault, DBSnapshotNotFound is above.
            || c.ends_with("NotFoundFault")
            || c == "NoSuchEntity"
            // Route 53: the zone a certificate's tag names was deleted.
            || c == "NoSuchHostedZone"
            // DeleteService/UpdateService on a service already deleted.
            || c == "ServiceNotActiveException"
            // DetachInternetGateway: the attachment is not there.
            || c == "Gateway.NotAttached" =>
        {
            Class::NotFound
        }
        // ECS says "not found" for task definitions with a generic code.
        "ClientException"
            if lower.contains("unable to describe task definition")
                || lower.contains("revision is missing")
                || lower.contains("does not exist") =>
        {
            Class::NotFound
        }
        c if c.ends_with(".Duplicate")
            || c.starts_with("Duplicate")
            || c.contains("AlreadyExists")
            // EC2: an association that is there, or a CIDR our own lost attempt took.
            || c == "Resource.AlreadyAssociated"
            || c.ends_with(".Conflict") =>
        {
            Class::AlreadyExists
        }
        // IAM: a service-linked role made before ("has been taken in this account"); ECS: a
        // CreateService whose client token made a service with other settings.
        "InvalidInput" if lower.contains("has been taken") => Class::AlreadyExists,
        "InvalidParameterException" if lower.contains("not idempotent") => Class::AlreadyExists,
        "DependencyViolation"
        | "ResourceInUse"
        | "ResourceInUseException"
        | "DeleteConflict"
        // DeleteCluster while a deleted service's tasks are still stopping.
        | "ClusterContainsTasksException"
        | "ClusterContainsServicesException"
        // RDS: DeleteDBSubnetGroup while an instance in it is still being deleted.
        | "InvalidDBSubnetGroupStateFault" => Class::DependencyViolation,
        c if THROTTLING.contains(&c) => Class::Throttled,
        // ECS, while a role created moments ago has not reached it.
        _ if lower.contains("unable to assume the role") => Class::Propagating,
        _ => Class::Other,
    }
}

/// Results whose "not there" or "already there" is an answer, not a failure.
pub trait Outcome<T> {
    /// `None` when the thing is not there.
    fn ok_if_not_found(self) -> Result<Option<T>, AwsError>;
    /// `None` when the thing exists already.
    fn ok_if_exists(self) -> Result<Option<T>, AwsError>;
}

impl<T> Outcome<T> for Result<T, AwsError> {
    fn ok_if_not_found(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn ok_if_exists(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_already_exists() => Ok(None),
            Err(e) => Err(e),
        }
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
            // A CI role's session (`assumed-role/<stack>-<env>-ci-<role>/…`): by design.
            if message.contains("-ci-deploy/") {
                "this is the CI deploy role: it deploys this stack, but changing who may deploy (`ci:`, the roles' trust) or `down` need administrator credentials: run that from a machine with them (`stackctl policy` prints what they need)"
            } else if message.contains("-ci-plan/") {
                "this is the CI plan role, for pull requests: it reads the stack and nothing else (`stackctl policy --role plan` prints it); deploys run with the deploy role"
            } else {
                "the credentials lack a permission: `stackctl policy` prints the IAM policy stackctl needs for this stack"
            }
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
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: arn:aws:sts::1:assumed-role/demo-default-ci-deploy/github-actions is not authorized to perform: iam:UpdateAssumeRolePolicy")
            .build();
        let hint = failed(403, meta).hint.unwrap();
        assert!(hint.contains("CI deploy role"), "{hint}");
    }
}
