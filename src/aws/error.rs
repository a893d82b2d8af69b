//! AWS errors as "verb noun: cause", with the service's error code kept for decisions.

use std::fmt::Display;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

#[derive(Debug, thiserror::Error)]
#[error("{op} {target}: {message}")]
pub struct AwsError {
    pub op: &'static str,
    pub target: String,
    pub code: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl AwsError {
    pub fn config(message: &str, hint: &str) -> AwsError {
        AwsError {
            op: "configure",
            target: "AWS".into(),
            code: None,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn new(op: &'static str, target: impl Display, message: impl Into<String>) -> AwsError {
        AwsError {
            op,
            target: target.to_string(),
            code: None,
            message: message.into(),
            hint: None,
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
            "DependencyViolation" | "ResourceInUse" | "ResourceInUseException" | "DeleteConflict"
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

impl<T, E, R> Ctx<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    fn ctx(self, op: &'static str, target: impl Display) -> Result<T, AwsError> {
        self.map_err(|e| {
            let code = e.code().map(str::to_string);
            let message = match (e.code(), e.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => DisplayErrorContext(&e).to_string(),
            };
            let hint = hint_for(code.as_deref(), &message);
            AwsError {
                op,
                target: target.to_string(),
                code,
                message,
                hint,
            }
        })
    }
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
            "the credentials lack a permission: part1.md lists the policy stackctl needs"
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
