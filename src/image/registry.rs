//! Where images go: registry endpoints (HTTPS, or plain HTTP on loopback only) and the
//! OCI client configured for them.

use std::net::IpAddr;

use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::ImageIndexEntry;
pub use oci_client::secrets::RegistryAuth;

use super::error::{Error, Result};
use super::platform::Platform;

/// A repository in a registry plus the credentials to push to it.
#[derive(Debug, Clone)]
pub struct RegistryTarget {
    /// Registry `host[:port]`, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    pub registry: String,
    /// Repository name inside the registry, e.g. `demo/api`.
    pub repository: String,
    /// Credentials (`Debug` redacts the password).
    pub auth: RegistryAuth,
    /// Speak plain HTTP (only ever true for a loopback registry).
    pub plain_http: bool,
}

impl RegistryTarget {
    /// A target from an endpoint (`https://host`, `http://127.0.0.1:5000` or bare
    /// `host[:port]`); plain HTTP is refused unless the host is a loopback address.
    pub fn new(endpoint: &str, repository: &str, auth: RegistryAuth) -> Result<RegistryTarget> {
        let (registry, plain_http) = parse_endpoint(endpoint)?;
        Ok(RegistryTarget {
            registry,
            repository: repository.to_string(),
            auth,
            plain_http,
        })
    }

    /// `registry/repository:tag` as an oci-client reference.
    pub(crate) fn reference(&self, tag: &str) -> Reference {
        Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            tag.to_string(),
        )
    }
}

/// Splits an endpoint into `host[:port]` and whether to use plain HTTP. Without a
/// scheme, loopback hosts use HTTP (like Docker's implicit insecure localhost) and
/// everything else HTTPS.
pub fn parse_endpoint(endpoint: &str) -> Result<(String, bool)> {
    let refuse = |reason: &str| Error::Endpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, endpoint),
    };
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || host.contains('@') {
        return Err(refuse("expected scheme://host[:port] with no path"));
    }
    let loopback = is_loopback(host);
    let plain_http = match scheme.as_deref() {
        Some("https") => false,
        Some("http") if loopback => true,
        Some("http") => return Err(refuse("plain HTTP is only allowed for loopback addresses")),
        Some(_) => return Err(refuse("scheme must be http or https")),
        None => loopback,
    };
    Ok((host.to_string(), plain_http))
}

/// Whether `host[:port]` names this machine: `localhost` or a loopback IP.
pub fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else if host_port.matches(':').count() == 1 {
        host_port.split(':').next().unwrap_or_default()
    } else {
        host_port
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An OCI client for `registry`; `platform` picks the entry of a multi-platform index.
pub(crate) fn client(
    registry: &str,
    plain_http: bool,
    platform: Option<Platform>,
) -> oci_client::Client {
    let protocol = if plain_http {
        ClientProtocol::HttpsExcept(vec![registry.to_string()])
    } else {
        ClientProtocol::Https
    };
    let platform_resolver = platform.map(|p| {
        Box::new(move |entries: &[ImageIndexEntry]| pick_platform(entries, p)) as Box<Resolver>
    });
    oci_client::Client::new(ClientConfig {
        protocol,
        platform_resolver,
        // One PUT per blob: ECR mishandles multi-chunk PATCH uploads (it keeps only
        // the first chunk), and oci-client chunks at 4 MiB.
        use_monolithic_push: true,
        user_agent: concat!("stackctl/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    })
}

type Resolver = dyn Fn(&[ImageIndexEntry]) -> Option<String> + Send + Sync;

fn pick_platform(entries: &[ImageIndexEntry], platform: Platform) -> Option<String> {
    entries
        .iter()
        .find(|e| {
            e.platform.as_ref().is_some_and(|p| {
                p.os.to_string() == "linux" && p.architecture.to_string() == platform.architecture()
            })
        })
        .map(|e| e.digest.clone())
}

/// Whether a registry reference should use plain HTTP (loopback registries only).
pub(crate) fn plain_http_for(reference: &Reference) -> bool {
    is_loopback(reference.resolve_registry())
}
