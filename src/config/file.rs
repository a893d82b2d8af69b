//! The shape of `stack.yaml` as written by users (before overlays are resolved and values
//! validated). Spans are kept on every value a later check may point at.

use std::collections::BTreeMap;

use marked_yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "stackctl stack.yaml")]
pub struct StackFile {
    /// Stack name: prefixes every resource. Lowercase letters, digits and '-'.
    #[schemars(with = "String", regex(pattern = r"^[a-z][a-z0-9-]*[a-z0-9]$"))]
    pub name: Spanned<String>,
    /// AWS region; otherwise AWS_REGION or the profile's region.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub network: NetworkFile,
    /// The services, by name.
    pub services: BTreeMap<String, ServiceFile>,
    /// Overlays merged over the base file with `--env NAME`.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentFile>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// IPv4 CIDR of the VPC, /16 to /24. Default 10.42.0.0/16.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cidr: Option<Spanned<String>>,
    /// Number of availability zones (public subnets), 2 to 6. Default 2.
    #[serde(default)]
    #[schemars(with = "Option<u8>", range(min = 2, max = 6))]
    pub azs: Option<Spanned<u8>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// A Cargo package in this repository, built into an image without Docker.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub build: Option<Spanned<String>>,
    /// A prebuilt image reference, deployed by digest (instead of `build`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// The port the container listens on.
    #[schemars(with = "u16", range(min = 1))]
    pub port: Spanned<u16>,
    /// Fargate CPU units (256, 512, 1024, 2048, 4096, 8192, 16384). Default 256.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub cpu: Option<Spanned<u32>>,
    /// Memory in MiB, a valid Fargate pair with `cpu`. Default 512.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub memory: Option<Spanned<u32>>,
    /// Number of tasks. Default 1.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub desired: Option<Spanned<u32>>,
    /// HTTP health-check path. Default `/`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub health: Option<Spanned<String>>,
    /// Served by the load balancer.
    #[serde(default)]
    pub public: bool,
    /// The API token, kept in SSM Parameter Store as a SecureString.
    #[serde(default)]
    pub token: Option<TokenFile>,
    /// Plain environment variables (never secrets).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    /// Name of the environment variable that carries the token into the container.
    #[schemars(with = "String")]
    pub env: Spanned<String>,
}

/// An overlay: any subset of the base file's keys (validated after merging; here only
/// the top-level keys are checked, hence the ignored values).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EnvironmentFile {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub region: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(with = "Option<NetworkFile>")]
    pub network: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, ServiceOverlaySchema>>")]
    pub services: Option<serde::de::IgnoredAny>,
}

/// Schema only: a service overlay may set any service key.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct ServiceOverlaySchema {
    build: Option<String>,
    image: Option<String>,
    port: Option<u16>,
    cpu: Option<u32>,
    memory: Option<u32>,
    desired: Option<u32>,
    health: Option<String>,
    public: Option<bool>,
    token: Option<TokenFile>,
    env: Option<BTreeMap<String, String>>,
}
