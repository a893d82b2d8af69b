//! CI/CD with GitHub Actions: the workflows `stackctl ci github` writes into a repository
//! (`github`), the rule that keeps a person's edits to them (`files`), and the names of
//! stackctl's release assets, which those workflows download and this repository's release
//! workflow (.github/workflows/release.yml, checked against these by tests/workflows.rs) makes.

pub mod files;
pub mod github;

/// Where stackctl's source and releases live.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The static binaries each release has (Linux, musl, no shared library needed).
pub const TARGETS: &[&str] = &["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// A release's archive for one target: `stackctl` with its completions and man page.
pub fn asset(version: &str, target: &str) -> String {
    format!("stackctl-{version}-{target}.tar.gz")
}

/// A release's checksums, one `sha256sum` line per asset.
pub const CHECKSUMS: &str = "SHA256SUMS";

/// The actions the workflows use, each at its current major version (a major keeps its
/// inputs; a new one is a deliberate change here).
pub const CHECKOUT: &str = "actions/checkout@v6";
pub const CACHE: &str = "actions/cache@v5";
pub const GITHUB_SCRIPT: &str = "actions/github-script@v8";
pub const CONFIGURE_AWS: &str = "aws-actions/configure-aws-credentials@v6";
