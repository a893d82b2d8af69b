//! `stackctl dev --containers`: each service runs its image, in podman (else Docker), as its
//! Fargate task would: the image stackctl builds (loaded from an OCI archive, no registry
//! needed) with a read-only root, as the task definition's user, each directory the image
//! declares a volume mounted fresh for each start with the image's content (Fargate copies
//! an image's VOLUME content into the task's volume: ECS Developer Guide, "Use bind mounts
//! with Amazon ECS"); a prebuilt `image:` as its task definition runs it. The host's network:
//! ports are this machine's, and the callees' private names resolve to 127.0.0.1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::json;

use super::DevError;
use super::layout::Layout;
use crate::image::BuiltImage;
use crate::image::layer::WRITABLE;
use crate::image::oci::MANIFEST_MEDIA_TYPE;
use crate::plan::desired::APP_USER;

/// The container program: `podman`, else `docker`.
#[derive(Debug, Clone, PartialEq)]
pub struct Runtime(pub String);

impl Runtime {
    /// The first of podman and docker that answers `info`.
    pub async fn find() -> Result<Runtime, DevError> {
        for program in ["podman", "docker"] {
            let ok = tokio::process::Command::new(program)
                .arg("info")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(Runtime(program.into()));
            }
        }
        Err(DevError::NoRuntime)
    }

    /// Pulls a prebuilt image.
    pub async fn pull(&self, reference: &str) -> Result<(), DevError> {
        self.run(
            &format!("pull {reference}"),
            &["pull", "--quiet", reference],
        )
        .await
        .map(drop)
    }

    /// Runs the runtime with `args`; its stdout, or its stderr as the error.
    async fn run(&self, action: &str, args: &[&str]) -> Result<String, DevError> {
        let out = tokio::process::Command::new(&self.0)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(DevError::io("run", &self.0))?;
        if !out.status.success() {
            return Err(DevError::Runtime {
                action: action.into(),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    }

    /// Loads a built image from an OCI archive written to `archive`; its reference.
    pub async fn load(
        &self,
        image: &BuiltImage,
        tag: &str,
        archive: &Path,
    ) -> Result<String, DevError> {
        write_archive(image, tag, archive)?;
        let path = archive.to_string_lossy();
        let loaded = self
            .run("load the image", &["load", "--quiet", "--input", &path])
            .await;
        let _ = std::fs::remove_file(archive);
        loaded?;
        // Earlier builds of the service go (the one still running refuses, and goes next time).
        let repository = tag.rsplit_once(':').map_or(tag, |(r, _)| r);
        let format = "{{.Repository}}:{{.Tag}}";
        let listed = self
            .run("list images", &["images", "--format", format])
            .await
            .unwrap_or_default();
        for old in listed
            .lines()
            .filter(|l| l.starts_with(&format!("{repository}:")) && *l != tag)
        {
            let _ = self.run("remove an image", &["rmi", old]).await;
        }
        Ok(tag.to_string())
    }

    /// Removes the container `name` and its anonymous volumes, if it exists.
    pub async fn remove(&self, name: &str) {
        let args: &[&str] = match self.0.as_str() {
            // Stopped already: no grace period to wait for.
            "podman" => &["rm", "--force", "--volumes", "--time", "0", name],
            _ => &["rm", "--force", "--volumes", name],
        };
        let _ = self.run("remove the container", args).await;
    }
}

/// How a service's container runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub runtime: Runtime,
    pub name: String,
    pub image: String,
    /// Built by stackctl: read-only root, its user, its volumes (as `up`'s task definition).
    pub built: bool,
    /// Names resolving to 127.0.0.1 inside (the callees' private names).
    pub hosts: Vec<String>,
}

impl Container {
    /// `run`'s arguments; the environment goes by name only (`--env NAME`), its values
    /// through the runtime's own environment, never its command line.
    pub fn run_args<'a>(&self, env: impl Iterator<Item = &'a String>) -> Vec<String> {
        let mut args: Vec<String> = ["run", "--rm", "--name", &self.name, "--network", "host"]
            .map(String::from)
            .to_vec();
        args.extend(["--pull".into(), "never".into()]);
        if self.built {
            args.extend(["--read-only".into(), "--user".into(), APP_USER.into()]);
            if self.runtime.0 == "podman" {
                // Podman's --read-only alone mounts a writable /tmp; Fargate does not.
                args.push("--read-only-tmpfs=false".into());
            }
            for path in WRITABLE {
                args.extend(["--volume".into(), path.to_string()]);
            }
        }
        for name in env {
            args.extend(["--env".into(), name.clone()]);
        }
        for host in &self.hosts {
            args.extend(["--add-host".into(), format!("{host}:127.0.0.1")]);
        }
        args.push(self.image.clone());
        args
    }
}

/// An OCI image layout in a tar (OCI Image Layout Specification), named `tag`.
fn write_archive(image: &BuiltImage, tag: &str, path: &Path) -> Result<(), DevError> {
    let io = |e| DevError::io("write", path)(e);
    let file = std::fs::File::create(path).map_err(io)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, data)
    };
    let blob = |digest: &str| format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": image.digest(),
            "size": image.manifest.len(),
            // Podman names the image from the first, Docker (containerd) from the second.
            "annotations": {
                "org.opencontainers.image.ref.name": tag,
                "io.containerd.image.name": tag,
            },
        }],
    });
    add("index.json", index.to_string().as_bytes()).map_err(io)?;
    add(&blob(image.digest()), &image.manifest).map_err(io)?;
    add(&blob(&image.config.digest), &image.config.data).map_err(io)?;
    for layer in &image.layers {
        add(&blob(&layer.digest), &layer.data).map_err(io)?;
    }
    tar.into_inner().and_then(|mut w| w.flush()).map_err(io)
}

/// The container's name: unique to the project's directory and the service.
pub fn name(layout: &Layout, service: &str) -> String {
    format!("stackctl-dev-{}-{service}", layout.id())
}

/// The tag a built image is loaded as: one repository per service, a tag per build.
pub fn tag(stack: &str, service: &str, digest: &str) -> String {
    let short = digest.trim_start_matches("sha256:");
    format!(
        "localhost/stackctl-dev/{stack}-{service}:{}",
        &short[..12.min(short.len())]
    )
}

/// Where the archive is written before it is loaded.
pub fn archive_path(dev_dir: &Path, service: &str) -> PathBuf {
    dev_dir.join(format!("{service}.oci.tar"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_image_runs_as_fargate_runs_its_task_and_values_stay_off_the_command_line() {
        let c = Container {
            runtime: Runtime("podman".into()),
            name: "stackctl-dev-1-web".into(),
            image: "localhost/stackctl-dev/web:dev".into(),
            built: true,
            hosts: vec!["users.twotier-default.internal".into()],
        };
        let env = ["API_TOKEN".to_string(), "PORT".to_string()];
        let args = c.run_args(env.iter()).join(" ");
        assert_eq!(
            args,
            "run --rm --name stackctl-dev-1-web --network host --pull never --read-only --user \
             65532:65532 --read-only-tmpfs=false --volume /tmp --volume /data --env API_TOKEN \
             --env PORT --add-host users.twotier-default.internal:127.0.0.1 \
             localhost/stackctl-dev/web:dev"
        );
        let prebuilt = Container {
            built: false,
            runtime: Runtime("docker".into()),
            ..c
        };
        let args = prebuilt.run_args(std::iter::empty()).join(" ");
        assert!(
            !args.contains("--read-only") && !args.contains("--user"),
            "{args}"
        );
    }
}
