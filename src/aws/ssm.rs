//! SSM parameters: each service's API token as a SecureString, one parameter per generation. The value is generated
//! here (32 random bytes, URL-safe base64) and never printed.

use std::collections::BTreeMap;

use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType, Tag};
use base64::Engine;
use rand::TryRngCore;
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, PARAMETERS, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Generations, Ids, Key, Kind, Observed};

/// An SSM SecureString parameter holding one generation of a service's API token.
pub struct Parameter;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub version: i64,
    pub generation: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {}

impl std::fmt::Display for Fix {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// The run lock's parameter (`Names::lock_parameter`).
pub const LOCK: &[&str] = &["arn:{partition}:ssm:{region}:{account}:parameter/stackctl/{stack}/{env}/lock"];

impl Resource for Parameter {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ssm:DescribeParameters", Scope::Any, &[Up, RotateToken, Rollback, Token, Status, Down, Check]),
            ("ssm:GetParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Token, Down, Check]),
            ("ssm:PutParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
            ("ssm:AddTagsToResource", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
            ("ssm:DeleteParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
            // `rollback` touches no token: only the run lock.
            ("ssm:GetParameter", Scope::Arns("TheStacksRunLock", LOCK), &[Rollback]),
            ("ssm:PutParameter", Scope::Arns("TheStacksRunLock", LOCK), &[Rollback]),
            ("ssm:AddTagsToResource", Scope::Arns("TheStacksRunLock", LOCK), &[Rollback]),
            ("ssm:DeleteParameter", Scope::Arns("TheStacksRunLock", LOCK), &[Rollback]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    /// A token's value is never compared: rotating it is `rotate-token`'s job.
    fn diff(_: &Spec, _: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        Ok(vec![])
    }

    fn summary(have: &State) -> String {
        format!("token generation {}", have.generation)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "type": TYPE.as_str(),
            "tier": TIER.as_str(),
            "value": "32 random bytes, URL-safe base64 (never printed)",
        })
    }

    #[cfg(test)]
    fn converged(_: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            version: 1,
            generation: 1,
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key, name, &spec.description).await
    }

    async fn fix(_: &Cx<'_>, _: &Spec, _: &Observed, _: &State, fix: &Fix) -> Result<(), AwsError> {
        match *fix {}
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.parameter_prefix();
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("BeginsWith")
        .values(&prefix)
        .build()
        .map_err(|e| AwsError::new("describe", "SSM parameters", e.to_string()))?;
    let mut tokens: BTreeMap<String, Vec<(u32, String, i64)>> = BTreeMap::new();
    let mut pages = aws
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for p in page.ctx("describe", "SSM parameters")?.parameters() {
            let Some(name) = p.name() else { continue };
            if let Some((service, generation)) = names.parse_token_parameter(name) {
                tokens
                    .entry(service)
                    .or_default()
                    .push((generation, name.into(), p.version()));
            }
        }
    }
    let mut found = Vec::new();
    for (service, list) in tokens {
        let existing: Vec<u32> = list.iter().map(|(g, ..)| *g).collect();
        let Some(generations) = Generations::of(&existing) else {
            continue;
        };
        for (generation, name, version) in list {
            found.push(Observed {
                key: generations.key(&service, generation),
                id: name.clone(),
                name,
                state: plan::State::Parameter(State {
                    version,
                    generation,
                }),
            });
        }
    }
    Ok(found)
}

/// The token generation numbers of each service among observed parameters.
pub fn generation_numbers(names: &Names, observed: &[Observed]) -> BTreeMap<String, Vec<u32>> {
    let mut by_service: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for o in observed {
        if let Some((service, generation)) = names.parse_token_parameter(&o.name) {
            by_service.entry(service).or_default().push(generation);
        }
    }
    by_service
}

/// The token generations of each service, from observed parameters.
pub fn generations(names: &Names, observed: &[Observed]) -> BTreeMap<String, Generations> {
    generation_numbers(names, observed)
        .into_iter()
        .filter_map(|(s, g)| Some((s, Generations::of(&g)?)))
        .collect()
}

/// A new parameter's value.
pub enum Content<'a> {
    /// Encrypted ([`TYPE`]): a token.
    Secret(&'a str),
    /// In clear: the run lock.
    Plain(&'a str),
}

/// Creates parameter `name`, tagged as the stack's `resource`; fails with "already exists" if
/// it does (Overwrite=false): a token generation is written once, the run lock taken once.
pub async fn put_new(
    aws: &Aws,
    names: &Names,
    resource: &str,
    name: &str,
    description: &str,
    content: Content<'_>,
) -> Result<(), AwsError> {
    let (kind, value) = match content {
        Content::Secret(v) => (TYPE, v),
        Content::Plain(v) => (ParameterType::String, v),
    };
    let tags: Vec<Tag> = super::tags(names, resource, name)?;
    aws.ssm
        .put_parameter()
        .name(name)
        .description(description)
        .r#type(kind)
        .tier(TIER)
        .value(value)
        .overwrite(false)
        .set_tags(Some(tags))
        .send()
        .await
        .ctx("create SSM parameter", name)?;
    Ok(())
}

/// The value of a plain parameter, or None when there is none.
pub async fn value(aws: &Aws, name: &str) -> Result<Option<String>, AwsError> {
    match aws
        .ssm
        .get_parameter()
        .name(name)
        .send()
        .await
        .ctx("read SSM parameter", name)
    {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The decrypted value of a parameter. Callers must never print it unless asked to.
pub async fn read(aws: &Aws, name: &str) -> Result<String, AwsError> {
    let out = aws
        .ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ctx("read SSM parameter", name)?;
    Ok(out
        .parameter()
        .and_then(|p| p.value())
        .unwrap_or_default()
        .to_string())
}

/// Encrypted with the AWS-managed key `aws/ssm`; standard parameters cost nothing.
pub const TYPE: ParameterType = ParameterType::SecureString;
pub const TIER: ParameterTier = ParameterTier::Standard;

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
    let token = generate_token();
    let created = put_new(
        aws,
        names,
        &key.0,
        name,
        description,
        Content::Secret(&token),
    )
    .await;
    match created {
        Err(e) if !e.is_already_exists() => Err(e),
        _ => Ok(name.into()),
    }
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.ssm
        .delete_parameter()
        .name(name)
        .send()
        .await
        .ctx("delete SSM parameter", name)
        .ok_if_not_found()?;
    Ok(())
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
