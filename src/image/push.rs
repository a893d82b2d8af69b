//! Publishing a built image: upload the blobs the registry lacks, then tag the manifest.

use futures::future::try_join_all;
use http::HeaderValue;
use oci_client::RegistryOperation;

use super::BuiltImage;
use super::error::{Error, Result};
use super::oci::{Blob, MANIFEST_MEDIA_TYPE};
use super::registry::{self, RegistryTarget};

/// The outcome of [`publish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Digest-pinned reference: `registry/repository@sha256:…`.
    pub reference: String,
    /// The manifest digest, `sha256:…`.
    pub digest: String,
    /// The tag also pointed at the manifest.
    pub tag: String,
    /// Bytes of blobs (layers and config) uploaded; 0 when the registry had them all.
    pub bytes_uploaded: u64,
    /// Blobs uploaded.
    pub blobs_uploaded: usize,
    /// Blobs the registry already had, so not uploaded.
    pub blobs_skipped: usize,
}

/// Pushes `image` to `target` as `tag`: each layer and the config is uploaded only if
/// the registry does not have it yet, then the manifest is put under the tag.
/// The manifest bytes are pushed verbatim, so the registry's digest is
/// [`BuiltImage::digest`].
pub async fn publish(image: &BuiltImage, target: &RegistryTarget, tag: &str) -> Result<Published> {
    let shown = format!("{}/{}:{tag}", target.registry, target.repository);
    validate_tag(tag).map_err(|reason| Error::Reference {
        reference: shown.clone(),
        reason,
    })?;
    let fail = |source| Error::Push {
        reference: shown.clone(),
        source,
    };
    let client = registry::client(&target.registry, target.plain_http, None);
    let reference = target.reference(tag);
    client
        .auth(&reference, &target.auth, RegistryOperation::Push)
        .await
        .map_err(fail)?;

    let blobs: Vec<&Blob> = image.layers.iter().chain([&image.config]).collect();
    let uploads = try_join_all(blobs.iter().map(|blob| {
        let (client, reference) = (&client, &reference);
        async move {
            if client.blob_exists(reference, &blob.digest).await? {
                return Ok(None);
            }
            client
                .push_blob(reference, blob.data.clone(), &blob.digest)
                .await?;
            Ok(Some(blob.size()))
        }
    }))
    .await
    .map_err(fail)?;

    client
        .push_manifest_raw(
            &reference,
            image.manifest.clone(),
            HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
        )
        .await
        .map_err(fail)?;
    let uploaded: Vec<u64> = uploads.iter().flatten().copied().collect();
    Ok(Published {
        reference: format!(
            "{}/{}@{}",
            target.registry,
            target.repository,
            image.digest()
        ),
        digest: image.digest().to_string(),
        tag: tag.to_string(),
        bytes_uploaded: uploaded.iter().sum(),
        blobs_uploaded: uploaded.len(),
        blobs_skipped: uploads.len() - uploaded.len(),
    })
}

/// OCI tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> std::result::Result<(), String> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && tag.len() <= 128 {
        Ok(())
    } else {
        Err(format!(
            "invalid tag {tag:?}: use letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')"
        ))
    }
}
