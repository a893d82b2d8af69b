//! `stackctl build [SERVICE] [--push]`: build locally (no Docker), know the digest before any
//! AWS call, push only what the registry lacks (`engine::images`).

use std::process::ExitCode;

use super::{Failure, connect, load, unknown_service};
use crate::aws::Aws;
use crate::cli::{BuildArgs, Cli};
use crate::engine::Progress;
use crate::engine::images::{Local, build_all, push};

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
