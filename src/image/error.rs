//! Errors of the image builder, each phrased "verb noun: cause".

use std::path::PathBuf;

/// Result of the image builder.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while building, pushing or resolving an image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Rust standard library (or linker) for the requested platform is missing.
    #[error("build for {platform}: {hint}")]
    PlatformUnavailable {
        /// e.g. `linux/arm64`.
        platform: String,
        /// What to install, e.g. "`rustup target add aarch64-unknown-linux-gnu`".
        hint: String,
    },
    /// Running cargo failed to start or compiling failed; `detail` holds the compiler's errors.
    #[error("compile {package}: {detail}")]
    Compile {
        /// The Cargo package (or its directory) being compiled.
        package: String,
        /// The cause, with the compiler's error lines when there are some.
        detail: String,
    },
    /// A file or directory could not be read.
    #[error("read {}: {source}", path.display())]
    Read {
        /// The path being read.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Packing the image layer failed.
    #[error("pack layer: {0}")]
    Layer(#[source] std::io::Error),
    /// A registry endpoint is malformed or not allowed (plain HTTP off loopback).
    #[error("use registry endpoint {endpoint}: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it is refused.
        reason: String,
    },
    /// An image reference does not parse, or its tag is invalid.
    #[error("parse image reference {reference}: {reason}")]
    Reference {
        /// The reference as given.
        reference: String,
        /// Why it is refused.
        reason: String,
    },
    /// Pushing to the registry failed.
    #[error("push image {reference}: {source}")]
    Push {
        /// `registry/repository:tag`.
        reference: String,
        /// The registry client's error.
        source: oci_client::errors::OciDistributionError,
    },
    /// Resolving a reference to its digest failed.
    #[error("resolve image {reference}: {source}")]
    Resolve {
        /// The reference as given.
        reference: String,
        /// The registry client's error.
        source: oci_client::errors::OciDistributionError,
    },
    /// Pulling or using the base image failed.
    #[error("pull base image {reference}: {reason}")]
    Base {
        /// The base reference as given.
        reference: String,
        /// Why.
        reason: String,
    },
    /// Asking ECR for registry credentials failed.
    #[error("get ECR authorization token: {0}")]
    EcrAuth(String),
}
