//! SSM parameters: each service's API token as a SecureString. The value is generated
//! here (32 random bytes, URL-safe base64) and never printed.

use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType, Tag};
use base64::Engine;
use rand::TryRngCore;

use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{Key, Kind, Observed, State};

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.parameter_prefix();
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("BeginsWith")
        .values(&prefix)
        .build()
        .map_err(|e| AwsError::new("describe", "SSM parameters", e.to_string()))?;
    let mut found = Vec::new();
    let mut pages = aws
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for p in page.ctx("describe", "SSM parameters")?.parameters() {
            let Some(name) = p.name() else { continue };
            let Some(service) = name
                .strip_prefix(&prefix)
                .and_then(|s| s.strip_suffix("/token"))
            else {
                continue;
            };
            found.push(Observed {
                key: Key::new(Kind::Parameter, &format!("token-{service}")),
                id: name.into(),
                name: name.into(),
                state: State::Parameter {
                    version: p.version(),
                },
            });
        }
    }
    Ok(found)
}

/// A new random token: 32 bytes from the OS's CSPRNG, URL-safe base64 (43 characters).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates the parameter with a fresh token. Never overwrites: a token that exists stays.
pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    description: &str,
) -> Result<String, AwsError> {
    let tags = names
        .tags(&key.0, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>();
    let tags = tags.map_err(|e| AwsError::new("create SSM parameter", name, e.to_string()))?;
    let created = aws
        .ssm
        .put_parameter()
        .name(name)
        .description(description)
        .r#type(ParameterType::SecureString)
        .tier(ParameterTier::Standard)
        .value(generate_token())
        .overwrite(false)
        .set_tags(Some(tags))
        .send()
        .await
        .ctx("create SSM parameter", name);
    match created {
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(name.into()),
    }
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    match aws
        .ssm
        .delete_parameter()
        .name(name)
        .send()
        .await
        .ctx("delete SSM parameter", name)
    {
        Err(e) if !e.is_not_found() => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = super::generate_token();
        let b = super::generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
