//! Building a service for `stackctl dev`: a debug build of its package for this machine,
//! cargo's lines shown behind `build`.

use std::path::{Path, PathBuf};

use super::DevError;
use super::output::Output;
use crate::image::compile::{CompileRequest, compile};

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
        .map_err(|e| DevError::Build {
            service: service.to_string(),
            detail: match e {
                crate::image::Error::Compile { detail, .. } => detail,
                other => other.to_string(),
            },
        })
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
