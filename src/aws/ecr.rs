//! ECR repositories, one per built service: scan on push, AES-256 encryption, lifecycle
//! keeping the last images. Found by their deterministic name prefix.

use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, Tag,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource, parse_json, same_json};
use super::permissions::{Cmd, Permission, REPOSITORIES, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};
use crate::cost;

/// An ECR repository per built service: scan on push, a lifecycle policy.
pub struct Repository;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub scan_on_push: bool,
    pub lifecycle_policy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub scan_on_push: bool,
    pub lifecycle_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    ScanOnPush,
    PutLifecyclePolicy { policy: String },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::ScanOnPush => write!(f, "enable scan on push"),
            Fix::PutLifecyclePolicy { .. } => write!(f, "set the image lifecycle policy"),
        }
    }
}

impl Resource for Repository {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ecr:DescribeRepositories", Scope::Any, &[Up, Build, RotateToken, Status, Down, Check]),
            ("ecr:CreateRepository", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
            ("ecr:TagResource", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
            ("ecr:GetLifecyclePolicy", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, RotateToken, Status, Down, Check]),
            ("ecr:PutLifecyclePolicy", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
            ("ecr:PutImageScanningConfiguration", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
            ("ecr:DeleteRepository", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Down]),
        ]
    };

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        let mut fixes = Vec::new();
        if want.scan_on_push != have.scan_on_push {
            fixes.push(Fix::ScanOnPush);
        }
        if !same_json(Some(&want.lifecycle_policy), have.lifecycle_policy.as_ref()) {
            fixes.push(Fix::PutLifecyclePolicy {
                policy: want.lifecycle_policy.clone(),
            });
        }
        Ok(fixes)
    }

    fn usage(_: &Key, spec: &Spec, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(Some(&spec.lifecycle_policy), &i.assumptions)
    }

    fn usage_now(_: &Key, have: &State, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billed(have.lifecycle_policy.as_ref(), &i.assumptions)
    }

    fn settings(_: &Key, spec: &Spec) -> Value {
        json!({
            "encryption": ENCRYPTION.as_str(),
            "lifecycle_policy": parse_json(&spec.lifecycle_policy),
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            scan_on_push: spec.scan_on_push,
            lifecycle_policy: Some(spec.lifecycle_policy.clone()),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key, name, &spec.lifecycle_policy).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::ScanOnPush => scan_on_push(cx.aws, &have.id).await,
            Fix::PutLifecyclePolicy { policy } => put_lifecycle(cx.aws, &have.id, policy).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

pub const ENCRYPTION: EncryptionType = EncryptionType::Aes256;

/// What GetAuthorizationToken gives: a base64 `AWS:<password>` token, valid 12 hours, and the
/// registry endpoint.
pub struct Authorization {
    pub token: String,
    pub proxy_endpoint: Option<String>,
}

pub async fn authorization(client: &aws_sdk_ecr::Client) -> Result<Authorization, AwsError> {
    let out = client
        .get_authorization_token()
        .send()
        .await
        .ctx("get", "ECR authorization token")?;
    let missing = |what| AwsError::new("get", "ECR authorization token", what);
    let data = out
        .authorization_data()
        .first()
        .ok_or_else(|| missing("no authorization data in the response"))?;
    Ok(Authorization {
        token: data
            .authorization_token()
            .ok_or_else(|| missing("no authorization token in the response"))?
            .to_string(),
        proxy_endpoint: data.proxy_endpoint().map(str::to_string),
    })
}

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let prefix = names.repository("");
    let mut found = Vec::new();
    let mut pages = aws.ecr.describe_repositories().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("describe", "ECR repositories")?;
        for r in page.repositories() {
            let Some(name) = r.repository_name() else {
                continue;
            };
            let Some(service) = name.strip_prefix(&prefix) else {
                continue;
            };
            let lifecycle = match aws
                .ecr
                .get_lifecycle_policy()
                .repository_name(name)
                .send()
                .await
                .ctx("get lifecycle policy of", name)
            {
                Ok(out) => out.lifecycle_policy_text().map(str::to_string),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e),
            };
            let scan = r
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push());
            found.push(Observed {
                key: Key::new(Kind::Repository, service),
                id: name.into(),
                name: name.into(),
                state: plan::State::Repository(State {
                    scan_on_push: scan,
                    lifecycle_policy: lifecycle,
                }),
            });
        }
    }
    Ok(found)
}

/// Whether repository `name` exists (ECR does not create one on push).
pub async fn exists(aws: &Aws, name: &str) -> Result<bool, AwsError> {
    let found = aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .ctx("describe ECR repository", name);
    match found {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn create(
    aws: &Aws,
    names: &Names,
    key: &Key,
    name: &str,
    lifecycle_policy: &str,
) -> Result<String, AwsError> {
    let tags: Vec<Tag> = super::tags(names, &key.0, name)?;
    let created = aws
        .ecr
        .create_repository()
        .repository_name(name)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(ENCRYPTION)
                .build()
                .map_err(|e| AwsError::new("create ECR repository", name, e.to_string()))?,
        )
        .set_tags(Some(tags))
        .send()
        .await
        .ctx("create ECR repository", name);
    match created {
        Err(e) if !e.is_already_exists() => return Err(e),
        _ => {}
    }
    put_lifecycle(aws, name, lifecycle_policy).await?;
    Ok(name.into())
}

pub async fn scan_on_push(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.ecr
        .put_image_scanning_configuration()
        .repository_name(name)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .ctx("enable scan on push for", name)?;
    Ok(())
}

pub async fn put_lifecycle(aws: &Aws, name: &str, policy: &str) -> Result<(), AwsError> {
    aws.ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy)
        .send()
        .await
        .ctx("set lifecycle policy of", name)?;
    Ok(())
}

/// `force`: the images go with the repository.
pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.ecr
        .delete_repository()
        .repository_name(name)
        .force(true)
        .send()
        .await
        .ctx("delete ECR repository", name)
        .ok_if_not_found()?;
    Ok(())
}

/// The images the lifecycle policy keeps (its `countNumber`; 10 without one), stored.
fn billed(policy: Option<&String>, a: &cost::Assumptions) -> Vec<cost::Usage> {
    use cost::{Meter, Usage, fmt_num};
    let kept = policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p["rules"][0]["selection"]["countNumber"].as_u64())
        .unwrap_or(10);
    vec![Usage::new(
        Meter::EcrGbMonths,
        kept as f64 * a.image_mb / 1024.0,
        format!("{kept} images kept × {} MB", fmt_num(a.image_mb)),
    )]
}
