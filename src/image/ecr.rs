//! Amazon ECR as a push target: registry host and basic-auth credentials from
//! `GetAuthorizationToken` (called by `aws::ecr::authorization`), with an endpoint override
//! for emulators.

use base64::Engine;

use super::error::{Error, Result};
use super::registry::{RegistryAuth, RegistryTarget};

/// Environment variable replacing the registry endpoint ECR returns, e.g.
/// `http://127.0.0.1:5000` for a local registry next to an ECR emulator (moto has
/// ECR's API but no registry). Plain HTTP is accepted only for loopback addresses.
pub const ENDPOINT_ENV: &str = "STACKCTL_REGISTRY_ENDPOINT";

/// The registry host ECR serves an account's repositories from in a region.
pub fn host(account: &str, region: &str) -> String {
    let china = if region.starts_with("cn-") { ".cn" } else { "" };
    format!("{account}.dkr.ecr.{region}.amazonaws.com{china}")
}

/// The endpoint override from [`ENDPOINT_ENV`], if set.
pub fn endpoint_override() -> Option<String> {
    std::env::var(ENDPOINT_ENV).ok().filter(|e| !e.is_empty())
}

/// The push target for ECR repository `repository` (which must already exist: ECR does not
/// create repositories on push), from GetAuthorizationToken's `token` and `proxy_endpoint`
/// (`aws::ecr::authorization`), or `endpoint_override` instead of that endpoint.
pub fn target(
    repository: &str,
    token: &str,
    proxy_endpoint: Option<&str>,
    endpoint_override: Option<&str>,
) -> Result<RegistryTarget> {
    let (username, password) = decode_token(token)?;
    let endpoint = endpoint_override
        .or(proxy_endpoint)
        .ok_or_else(|| Error::EcrAuth("no proxy endpoint in the response".into()))?;
    RegistryTarget::new(
        endpoint,
        repository,
        RegistryAuth::Basic(username, password),
    )
}

/// Splits a base64 `user:password` token (for ECR, `AWS:<password>`).
fn decode_token(token: &str) -> Result<(String, String)> {
    let bad = |what: &str| Error::EcrAuth(format!("authorization token is not {what}"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| bad("base64"))?;
    let text = String::from_utf8(raw).map_err(|_| bad("UTF-8"))?;
    let (user, password) = text.split_once(':').ok_or_else(|| bad("user:password"))?;
    Ok((user.to_string(), password.to_string()))
}
