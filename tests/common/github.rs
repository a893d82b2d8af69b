//! GitHub Actions' side of OIDC federation: the token a job gets (issuer GitHub's, audience
//! `sts.amazonaws.com`, subject naming the repository and the branch, environment or pull
//! request), exchanged with STS for a CI role's credentials as
//! `aws-actions/configure-aws-credentials` does. The emulator checks the claims and the role's
//! trust (scripts/services/fidelity_oidc.py); it cannot check GitHub's signature, so the token
//! carries none.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A job's token for `subject` (e.g. `repo:octo-org/shop:ref:refs/heads/main`).
pub fn token(subject: &str, audience: &str) -> String {
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{}.{}.",
        part(serde_json::json!({ "alg": "RS256", "typ": "JWT" })),
        part(serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + 300,
        }))
    )
}

/// Credentials: key, secret, and a session token when temporary.
#[derive(Clone, Debug)]
pub struct Session(pub String, pub String, pub Option<String>);

/// The role's credentials for a job of `subject`, or STS's refusal (its error code and message).
pub async fn assume(endpoint: &str, role_arn: &str, subject: &str) -> Result<Session, String> {
    assume_for(endpoint, role_arn, subject, "sts.amazonaws.com").await
}

pub async fn assume_for(
    endpoint: &str,
    role_arn: &str,
    subject: &str,
    audience: &str,
) -> Result<Session, String> {
    let sts = super::clients(endpoint).await.sts;
    let out = sts
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name("github-actions")
        .web_identity_token(token(subject, audience))
        .send()
        .await
        .map_err(|e| aws_sdk_sts::error::DisplayErrorContext(e).to_string())?;
    let c = out.credentials().unwrap();
    Ok(Session(
        c.access_key_id().into(),
        c.secret_access_key().into(),
        Some(c.session_token().into()),
    ))
}

/// `cmd` run with the session's credentials instead of the project's.
pub fn as_session<'a>(cmd: &'a mut Command, s: &Session) -> &'a mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", &s.0)
        .env("AWS_SECRET_ACCESS_KEY", &s.1);
    match &s.2 {
        Some(token) => cmd.env("AWS_SESSION_TOKEN", token),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    }
}

/// SDK clients with the session's credentials.
pub async fn clients(endpoint: &str, s: &Session) -> stackctl::aws::Aws {
    use aws_config::{BehaviorVersion, Region};
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            &s.0,
            &s.1,
            s.2.clone(),
            None,
            "github",
        ))
        .load()
        .await;
    stackctl::aws::Aws::from_conf(&conf).unwrap()
}
