//! Daemonless container images for Rust services, in the manner of `ko` and Jib.
//!
//! [`build`] compiles a service's Cargo package into a static binary and packs it into a
//! reproducible OCI image (one layer over `scratch`, or over an optional digest-pinned
//! base); [`publish`] pushes it, skipping blobs the registry has, and returns the
//! digest-pinned reference deploys use. [`ecr::target`] turns an ECR repository and its
//! authorization token into a push target; [`resolve`] pins a prebuilt image reference to its digest.
//!
//! ```no_run
//! # async fn demo(token: &str) -> stackctl::image::Result<()> {
//! use stackctl::image::{self, BuildSpec};
//! let spec = BuildSpec {
//!     package_dir: "apps/api".into(),
//!     stack: "demo".into(),
//!     service: "api".into(),
//!     revision: "0123abc".into(),
//!     ..BuildSpec::default()
//! };
//! let built = image::build(&spec, &|line| eprintln!("{line}")).await?;
//! let endpoint = "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com";
//! let target = image::ecr::target("demo/api", token, Some(endpoint), None)?;
//! let published = image::publish(&built, &target, &spec.revision).await?;
//! println!("{}", published.reference); // 123….dkr.ecr….amazonaws.com/demo/api@sha256:…
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod base;
pub mod compile;
pub mod ecr;
mod error;
pub mod layer;
pub mod oci;
pub mod platform;
mod push;
pub mod registry;
mod resolve;

pub use error::{Error, Result};
pub use oci::Blob;
pub use platform::Platform;
pub use push::{Published, publish, validate_tag};
pub use registry::{RegistryAuth, RegistryTarget};
pub use resolve::{parse as parse_reference, resolve};

/// Label holding the source revision (the OCI annotation key).
pub const LABEL_REVISION: &str = "org.opencontainers.image.revision";
/// Label holding the stack name.
pub const LABEL_STACK: &str = "dev.stackctl.stack";
/// Label holding the service name.
pub const LABEL_SERVICE: &str = "dev.stackctl.service";

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    /// Directory of the service's Cargo package (e.g. `apps/api`).
    pub package_dir: PathBuf,
    /// Binary target; `None` takes the package's only (or `default-run`) binary.
    pub bin: Option<String>,
    /// Stack name, recorded as a label.
    pub stack: String,
    /// Service name, recorded as a label.
    pub service: String,
    /// Port the service listens on: exposed, and set as `PORT`.
    pub port: u16,
    /// Source revision (git sha or `"unknown"`), recorded as a label.
    pub revision: String,
    /// Timestamp for every file and the image's `created` (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: u64,
    /// Target platform.
    pub platform: Platform,
    /// Optional base image reference; `None` means `scratch`.
    pub base: Option<String>,
    /// Credentials to pull the base image.
    pub base_auth: RegistryAuth,
    /// Cargo target directory; `None` uses the workspace's.
    pub target_dir: Option<PathBuf>,
    /// Directories the service writes, made writable and declared as volumes (default
    /// [`layer::WRITABLE`], which the task definitions mount).
    pub writable: Vec<String>,
}

impl Default for BuildSpec {
    fn default() -> Self {
        BuildSpec {
            package_dir: PathBuf::from("."),
            bin: None,
            stack: String::new(),
            service: String::new(),
            port: 8080,
            revision: "unknown".to_string(),
            source_date_epoch: 0,
            platform: Platform::default(),
            base: None,
            base_auth: RegistryAuth::Anonymous,
            target_dir: None,
            writable: layer::WRITABLE.map(String::from).to_vec(),
        }
    }
}

/// A built image, held in memory, ready for [`publish`].
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The config blob.
    pub config: Blob,
    /// Layer blobs, base layers first, ours last.
    pub layers: Vec<Blob>,
    /// The manifest bytes, pushed verbatim.
    pub manifest: bytes::Bytes,
    /// Platform built for.
    pub platform: Platform,
    /// Name of the binary (at `/<name>`).
    pub binary: String,
    /// Size of the uncompressed binary.
    pub binary_size: u64,
    /// The digest-pinned base image, if any.
    pub base: Option<String>,
    digest: String,
}

impl BuiltImage {
    /// Assembles an image from its config and layers, computing manifest and digest.
    fn assemble(config: Blob, layers: Vec<Blob>, annotations: &BTreeMap<String, String>) -> Self {
        let manifest = oci::manifest_json(&config, &layers, annotations);
        BuiltImage {
            digest: layer::sha256(&manifest),
            manifest: manifest.into(),
            config,
            layers,
            platform: Platform::default(),
            binary: String::new(),
            binary_size: 0,
            base: None,
        }
    }

    /// The manifest digest, `sha256:…`, which the registry will report.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Bytes a registry stores for this image: compressed layers plus config.
    pub fn compressed_size(&self) -> u64 {
        self.layers.iter().map(Blob::size).sum::<u64>() + self.config.size()
    }

    /// The image config as JSON.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.config.data).expect("config is JSON we wrote")
    }
}

/// Builds the image for `spec`: compiles the package (cargo's output, including compiler
/// errors, goes line by line to `progress`), pulls the base if any, and packs the layer.
pub async fn build(spec: &BuildSpec, progress: &(dyn Fn(&str) + Sync)) -> Result<BuiltImage> {
    let binary = compile::compile(
        &compile::CompileRequest {
            package_dir: &spec.package_dir,
            bin: spec.bin.as_deref(),
            platform: Some(spec.platform),
            target_dir: spec.target_dir.as_deref(),
            source_date_epoch: spec.source_date_epoch,
        },
        progress,
    )
    .await?;
    let base = match &spec.base {
        Some(reference) => {
            Some(base::pull(reference, &spec.base_auth, spec.platform, progress).await?)
        }
        None => None,
    };
    let bytes = tokio::fs::read(&binary.path)
        .await
        .map_err(|source| Error::Read {
            path: binary.path.clone(),
            source,
        })?;
    let binary_size = bytes.len() as u64;
    progress(&format!("packing {} ({binary_size} bytes)", binary.name));
    let entries = layer::app_entries(bytes, &binary.name, base.is_none(), &spec.writable);
    let epoch = spec.source_date_epoch;
    let cache = binary.path.parent().map(|d| d.join("stackctl-layers"));
    let app_layer =
        tokio::task::spawn_blocking(move || layer::pack_cached(&entries, epoch, cache.as_deref()))
            .await
            .map_err(|e| Error::Layer(std::io::Error::other(e)))??;

    let settings = settings(spec, &binary.name, base.is_none());
    let config = Blob::new(
        oci::CONFIG_MEDIA_TYPE,
        oci::config_json(
            &settings,
            base.as_ref().map(|b| &b.config),
            &app_layer.diff_id,
        ),
    );
    let mut layers = base.as_ref().map(|b| b.layers.clone()).unwrap_or_default();
    layers.push(Blob {
        media_type: oci::LAYER_MEDIA_TYPE.to_string(),
        digest: app_layer.digest,
        data: app_layer.data,
    });
    let mut annotations = BTreeMap::new();
    if let Some(b) = &base {
        let (name, digest) = b.pinned.split_once('@').expect("pinned has a digest");
        annotations.insert(
            "org.opencontainers.image.base.name".into(),
            name.to_string(),
        );
        annotations.insert(
            "org.opencontainers.image.base.digest".into(),
            digest.to_string(),
        );
    }
    let mut image = BuiltImage::assemble(config, layers, &annotations);
    image.platform = spec.platform;
    image.binary = binary.name;
    image.binary_size = binary_size;
    image.base = base.map(|b| b.pinned);
    progress(&format!(
        "built {} ({} bytes compressed)",
        image.digest(),
        image.compressed_size()
    ));
    Ok(image)
}

fn settings(spec: &BuildSpec, bin: &str, scratch: bool) -> oci::ImageSettings {
    // Over a base image, the CA bundle is the base's.
    let mut env = vec![format!("PORT={}", spec.port)];
    if scratch {
        env.push(format!("SSL_CERT_FILE={}", layer::CA_BUNDLE));
    }
    let created = crate::clock::rfc3339(spec.source_date_epoch);
    let labels = BTreeMap::from([
        (LABEL_REVISION.to_string(), spec.revision.clone()),
        (
            "org.opencontainers.image.created".to_string(),
            created.clone(),
        ),
        (LABEL_STACK.to_string(), spec.stack.clone()),
        (LABEL_SERVICE.to_string(), spec.service.clone()),
    ]);
    oci::ImageSettings {
        platform: spec.platform,
        entrypoint: vec![layer::binary_path(bin)],
        user: format!("{0}:{0}", layer::APP_UID),
        port: spec.port,
        env,
        labels,
        volumes: spec.writable.clone(),
        created,
    }
}
