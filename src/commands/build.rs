//! `stackctl build [SERVICE] [--push]`, and the image step of `up`: build locally (no
//! Docker), know the digest before any AWS call, push only what the registry lacks.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use super::{Failure, connect, load};
use crate::aws::Aws;
use crate::cli::{BuildArgs, Cli};
use crate::config::{Source, Stack};
use crate::engine::Progress;
use crate::image::{self, BuildSpec, BuiltImage, RegistryAuth};
use crate::plan::{Facts, Image};

/// A service's image before it is in the registry.
pub enum Local {
    Built(Box<BuiltImage>),
    /// A prebuilt reference, pinned to its digest.
    Pinned(String),
}

pub async fn run(cli: &Cli, args: &BuildArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    if let Some(s) = &args.service
        && !stack.services.contains_key(s)
    {
        return Err(unknown_service(&stack, s));
    }
    let progress = Progress::new();
    let locals = build_all(&stack, args.service.as_deref(), &progress).await?;
    if args.push {
        let aws = connect(cli, &stack).await?;
        for (svc, local) in &locals {
            if matches!(local, Local::Built(_)) {
                ensure_repository(&aws, &stack.names().repository(svc)).await?;
            }
            let reference = push(&aws, &stack, svc, local, &progress).await?;
            println!("{svc}: {reference}");
        }
    } else {
        for (svc, local) in &locals {
            match local {
                Local::Built(i) => println!(
                    "{svc}: {} ({} bytes compressed, {})",
                    i.digest(),
                    i.compressed_size(),
                    i.platform
                ),
                Local::Pinned(r) => println!("{svc}: {r} (prebuilt)"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// ECR does not create repositories on push; `up` creates them.
async fn ensure_repository(aws: &Aws, name: &str) -> Result<(), Failure> {
    if crate::aws::ecr::exists(aws, name).await? {
        return Ok(());
    }
    Err(Failure::Other {
        message: format!("ECR repository {name} does not exist"),
        hint: Some("run `stackctl up` once: it creates the repository (and deploys)".into()),
    })
}

pub fn unknown_service(stack: &Stack, s: &str) -> Failure {
    Failure::Usage(format!(
        "no service `{s}` in the stack (services: {})",
        stack
            .services
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn image_failure(e: image::Error) -> Failure {
    let hint = match &e {
        image::Error::Compile { .. } => {
            Some("the compiler's errors are above; fix them and run again".into())
        }
        image::Error::PlatformUnavailable { hint, .. } => Some(hint.clone()),
        _ => None,
    };
    Failure::Other {
        message: e.to_string(),
        hint,
    }
}

/// Builds (or pins) the image of every service, or only `only`.
pub async fn build_all(
    stack: &Stack,
    only: Option<&str>,
    progress: &Progress,
) -> Result<BTreeMap<String, Local>, Failure> {
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
                return Err(image_failure(e));
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
pub fn deployed(resources: &[crate::plan::Observed]) -> BTreeMap<String, Image> {
    resources
        .iter()
        .filter_map(|o| match &o.state {
            crate::plan::State::TaskDefinition { def, .. } => Some((
                o.key.0.split_once('/')?.1.to_string(),
                Image {
                    reference: def.image.clone()?,
                    health_command: def.health_command.clone(),
                },
            )),
            _ => None,
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
) -> Result<String, Failure> {
    let Local::Built(i) = local else {
        let Local::Pinned(r) = local else {
            unreachable!()
        };
        return Ok(r.clone());
    };
    let repository = stack.names().repository(svc);
    let task = progress.start(format!("push image {svc}"));
    let result = async {
        let target = image::ecr::registry_for(&aws.ecr, &repository).await?;
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
            Err(image_failure(e))
        }
    }
}
