//! What a service runs as: a debug build of its package for this machine, or with
//! `--containers` its image (built as `up` builds it and loaded into the runtime, or a
//! prebuilt `image:` pulled). cargo's lines are shown behind `build`.

use std::path::{Path, PathBuf};

use super::DevError;
use super::container::{self, Container, Runtime};
use super::layout::Layout;
use super::output::Output;
use crate::config::{Source, Stack};
use crate::image::compile::{CompileRequest, compile};
use crate::image::{self, BuildSpec, Platform};

/// What a service is started from.
#[derive(Debug, Clone, PartialEq)]
pub enum Artifact {
    Binary(PathBuf),
    Container(Container),
}

pub struct Builder {
    pub stack: Stack,
    pub layout: Layout,
    pub out: Output,
    /// Containers in this runtime; None: processes.
    pub runtime: Option<Runtime>,
}

impl Builder {
    /// Builds (or pulls) what service `name` runs.
    pub async fn artifact(&self, name: &str) -> Result<Artifact, DevError> {
        let svc = &self.stack.services[name];
        let Some(runtime) = &self.runtime else {
            let Source::Build(dir) = &svc.source else {
                unreachable!("plan::services refuses images without --containers")
            };
            return binary(name, dir, &self.out).await.map(Artifact::Binary);
        };
        let names = self.stack.names();
        let hosts = svc.calls.iter().map(|c| names.private_host(c)).collect();
        let (image, built) = match &svc.source {
            Source::Image(reference) => {
                runtime.pull(reference).await?;
                (reference.clone(), false)
            }
            Source::Build(dir) => {
                let spec = BuildSpec {
                    package_dir: dir.clone(),
                    stack: self.stack.name.clone(),
                    service: name.to_string(),
                    port: svc.port,
                    platform: Platform::host().unwrap_or_default(),
                    base: svc.base.clone(),
                    ..BuildSpec::default()
                };
                let show = |line: &str| self.out.line("build", line);
                let built = image::build(&spec, &show)
                    .await
                    .map_err(|e| build_failed(name, e))?;
                let tag = container::tag(&self.stack.name, name, built.digest());
                let archive = container::archive_path(&self.layout.dev, name);
                (runtime.load(&built, &tag, &archive).await?, true)
            }
        };
        Ok(Artifact::Container(Container {
            runtime: runtime.clone(),
            name: container::name(&self.layout, name),
            image,
            built,
            hosts,
        }))
    }
}

/// The path of the service's freshly built binary.
pub async fn binary(service: &str, package: &Path, out: &Output) -> Result<PathBuf, DevError> {
    let req = CompileRequest {
        package_dir: package,
        bin: None,
        platform: None,
        target_dir: None,
        source_date_epoch: 0,
    };
    let show = |line: &str| out.line("build", line);
    compile(&req, &show)
        .await
        .map(|b| b.path)
        .map_err(|e| build_failed(service, e))
}

/// A failed build of `service`: the compiler's lines when it has some.
pub fn build_failed(service: &str, e: image::Error) -> DevError {
    DevError::Build {
        service: service.to_string(),
        detail: match e {
            image::Error::Compile { detail, .. } => detail,
            other => other.to_string(),
        },
    }
}

/// Whether cargo can be run at all.
pub async fn cargo_available() -> bool {
    tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .is_ok_and(|o| o.status.success())
}
