//! Pinning a prebuilt image reference (`services.<name>.image`) to its digest.

use oci_client::Reference;

use super::error::{Error, Result};
use super::registry::{self, RegistryAuth};

/// Resolves `reference` (`nginx:1.27`, `host:5000/repo:tag`, `repo@sha256:…`) to
/// `registry/repository@sha256:…` by asking the registry for the manifest digest (for a
/// multi-platform image, the index digest). A reference already pinned is checked to
/// exist with that digest. Loopback registries are reached over plain HTTP.
pub async fn resolve(reference: &str, auth: &RegistryAuth) -> Result<String> {
    let parsed = parse(reference)?;
    let client = registry::client(
        parsed.resolve_registry(),
        registry::plain_http_for(&parsed),
        None,
    );
    let digest = client
        .fetch_manifest_digest(&parsed, auth)
        .await
        .map_err(|source| Error::Resolve {
            reference: reference.to_string(),
            source,
        })?;
    Ok(format!(
        "{}/{}@{digest}",
        parsed.registry(),
        parsed.repository()
    ))
}

/// Parses an image reference, with Docker's defaults (`docker.io`, `library/`, `latest`).
pub fn parse(reference: &str) -> Result<Reference> {
    reference
        .parse()
        .map_err(|e: oci_client::ParseError| Error::Reference {
            reference: reference.to_string(),
            reason: e.to_string(),
        })
}
