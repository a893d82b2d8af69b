//! The images of a stack's services: built locally (no Docker) or pinned, their digests known
//! before any AWS call; pushed to ECR with only what the registry lacks; and the images the
//! services deploy now.

use std::collections::BTreeMap;
use std::path::Path;

use super::Progress;
use crate::aws::{self, Aws};
use crate::config::{Source, Stack};
use crate::image::{self, BuildSpec, BuiltImage, RegistryAuth};
use crate::plan::{Facts, Image, Observed, State};

/// A service's image before it is in the registry.
pub enum Local {
    Built(Box<BuiltImage>),
    /// A prebuilt reference, pinned to its digest.
    Pinned(String),
}

/// Builds (or pins) the image of every service, or only `only`.
pub async fn build_all(
    stack: &Stack,
    only: Option<&str>,
    progress: &Progress,
) -> Result<BTreeMap<String, Local>, image::Error> {
    let mut out = BTreeMap::new();
    for (name, svc) in &stack.services {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let task = progress.start(format!("build image {name}"));
        let result = match &svc.source {
            Source::Build(dir) => {
                let spec = BuildSpec {
                    package_dir: dir.clone(),
                    stack: stack.name.clone(),
                    service: name.clone(),
                    port: svc.port,
                    revision: revision(dir),
                    base: svc.base.clone(),
                    source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    ..BuildSpec::default()
                };
                let say = |line: &str| progress.update(&task, line);
                image::build(&spec, &say)
                    .await
                    .map(|i| Local::Built(Box::new(i)))
            }
            Source::Image(reference) => image::resolve(reference, &RegistryAuth::Anonymous)
                .await
                .map(Local::Pinned),
        };
        match result {
            Ok(local) => {
                let what = match &local {
                    Local::Built(i) => i.digest().to_string(),
                    Local::Pinned(r) => r.clone(),
                };
                progress.finish(task, &what);
                out.insert(name.clone(), local);
            }
            Err(e) => {
                progress.finish(task, "failed");
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// The source revision: the last commit that touched the package (so commits elsewhere
/// do not change the image), else "unknown".
fn revision(dir: &Path) -> String {
    std::process::Command::new("git")
        .args(["log", "-1", "--format=%H", "--", "."])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The registry ECR serves this account's repositories from, or the override.
fn registry_host(facts: &Facts) -> String {
    let endpoint = std::env::var(image::ecr::ENDPOINT_ENV)
        .ok()
        .filter(|e| !e.is_empty());
    match endpoint {
        Some(e) => image::registry::parse_endpoint(&e)
            .map(|(host, _)| host)
            .unwrap_or(e),
        None => image::ecr::host(&facts.account, &facts.region),
    }
}

/// What the task definitions will reference: known from the local digest, before pushing.
pub fn references(
    stack: &Stack,
    facts: &Facts,
    locals: &BTreeMap<String, Local>,
) -> BTreeMap<String, Image> {
    let names = stack.names();
    locals
        .iter()
        .map(|(svc, local)| {
            let image = match local {
                Local::Built(i) => Image {
                    reference: format!(
                        "{}/{}@{}",
                        registry_host(facts),
                        names.repository(svc),
                        i.digest()
                    ),
                    health_command: Some(vec![
                        "CMD".into(),
                        image::layer::binary_path(&i.binary),
                        "healthcheck".into(),
                    ]),
                },
                Local::Pinned(r) => Image {
                    reference: r.clone(),
                    health_command: Some(vec![]),
                },
            };
            (svc.clone(), image)
        })
        .collect()
}

/// The images the services' task definitions deploy now.
pub fn deployed(resources: &[Observed]) -> BTreeMap<String, Image> {
    resources
        .iter()
        .filter_map(|o| {
            let State::TaskDefinition(aws::task_definition::State { def, .. }) = &o.state else {
                return None;
            };
            let image = Image {
                reference: def.image.clone()?,
                health_command: def.health_command.clone(),
            };
            Some((o.key.name().to_string(), image))
        })
        .collect()
}

/// Pushes a built image to the service's ECR repository (which must exist); blobs and
/// manifests the registry has already are not sent again.
pub async fn push(
    aws: &Aws,
    stack: &Stack,
    svc: &str,
    local: &Local,
    progress: &Progress,
) -> Result<String, image::Error> {
    let i = match local {
        Local::Built(i) => i,
        Local::Pinned(r) => return Ok(r.clone()),
    };
    let repository = stack.names().repository(svc);
    let task = progress.start(format!("push image {svc}"));
    let result = async {
        let auth = aws::ecr::authorization(&aws.ecr)
            .await
            .map_err(|e| image::Error::EcrAuth(e.message))?;
        let endpoint = image::ecr::endpoint_override();
        let target = image::ecr::target(
            &repository,
            &auth.token,
            auth.proxy_endpoint.as_deref(),
            endpoint.as_deref(),
        )?;
        let revision = i
            .config_json()
            .pointer("/config/Labels/org.opencontainers.image.revision")
            .and_then(|v| v.as_str())
            .map(|r| r.chars().take(12).collect::<String>())
            .filter(|r| image::validate_tag(r).is_ok())
            .unwrap_or_else(|| "latest".into());
        image::publish(i, &target, &revision).await
    }
    .await;
    match result {
        Ok(p) => {
            progress.finish(
                task,
                &format!(
                    "{} ({} bytes uploaded, {} blobs already there)",
                    p.reference, p.bytes_uploaded, p.blobs_skipped
                ),
            );
            Ok(p.reference)
        }
        Err(e) => {
            progress.finish(task, "failed");
            Err(e)
        }
    }
}
