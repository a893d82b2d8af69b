//! An optional base image under the application layer: pulled for the target platform,
//! pinned to its manifest digest, its layers reused as they are.

use oci_client::manifest::{
    IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE, IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE,
    IMAGE_LAYER_GZIP_MEDIA_TYPE, IMAGE_LAYER_MEDIA_TYPE,
};
use serde_json::Value;

use super::error::{Error, Result};
use super::oci::Blob;
use super::platform::Platform;
use super::registry::{self, RegistryAuth};
use super::resolve;

/// A base image pulled into memory.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// `registry/repository@sha256:…` of the platform's image manifest.
    pub pinned: String,
    /// The base image's config document.
    pub config: Value,
    /// Its layers, bottom first, with OCI media types.
    pub layers: Vec<Blob>,
}

/// Pulls `reference` for `platform` (choosing from a multi-platform index). Loopback
/// registries are reached over plain HTTP.
pub async fn pull(
    reference: &str,
    auth: &RegistryAuth,
    platform: Platform,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<BaseImage> {
    let fail = |reason: String| Error::Base {
        reference: reference.to_string(),
        reason,
    };
    let parsed = resolve::parse(reference)?;
    let client = registry::client(
        parsed.resolve_registry(),
        registry::plain_http_for(&parsed),
        Some(platform),
    );
    progress(&format!("pulling base image {reference} for {platform}"));
    let (manifest, digest, config) = client
        .pull_manifest_and_config(&parsed, auth)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let config: Value =
        serde_json::from_str(&config).map_err(|e| fail(format!("parse config: {e}")))?;
    let (os, arch) = (config["os"].as_str(), config["architecture"].as_str());
    if os != Some("linux") || arch != Some(platform.architecture()) {
        return Err(fail(format!(
            "it is {}/{}, not {platform}",
            os.unwrap_or("?"),
            arch.unwrap_or("?")
        )));
    }
    let diff_ids = config.pointer("/rootfs/diff_ids").and_then(Value::as_array);
    if diff_ids.map(Vec::len) != Some(manifest.layers.len()) {
        return Err(fail(
            "config diff_ids do not match the manifest's layers".into(),
        ));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for descriptor in &manifest.layers {
        let media_type = oci_layer_type(&descriptor.media_type)
            .ok_or_else(|| fail(format!("unsupported layer type {}", descriptor.media_type)))?;
        let mut data = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
        client
            .pull_blob(&parsed, descriptor, &mut data)
            .await
            .map_err(|e| fail(format!("pull layer {}: {e}", descriptor.digest)))?;
        let blob = Blob::new(media_type, data);
        if blob.digest != descriptor.digest {
            return Err(fail(format!(
                "layer {} arrived with digest {}",
                descriptor.digest, blob.digest
            )));
        }
        layers.push(blob);
    }
    let pinned = format!("{}/{}@{digest}", parsed.registry(), parsed.repository());
    progress(&format!("base image pinned to {pinned}"));
    Ok(BaseImage {
        pinned,
        config,
        layers,
    })
}

/// The OCI media type for a layer type (Docker's are the same bytes under another name).
fn oci_layer_type(media_type: &str) -> Option<&'static str> {
    match media_type {
        IMAGE_LAYER_GZIP_MEDIA_TYPE | IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE => {
            Some(IMAGE_LAYER_GZIP_MEDIA_TYPE)
        }
        IMAGE_LAYER_MEDIA_TYPE | IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE => Some(IMAGE_LAYER_MEDIA_TYPE),
        _ => None,
    }
}
