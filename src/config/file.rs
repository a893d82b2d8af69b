//! The shape of `stack.yaml` as written by users (before overlays are resolved and values
//! validated). Spans are kept on every value a later check may point at.

use std::collections::BTreeMap;

use marked_yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

mod forms;
pub use forms::*;

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
    /// A managed PostgreSQL (Amazon RDS) the listed services share.
    #[serde(default)]
    pub database: Option<DatabaseFile>,
    /// The public service's own domain, served over HTTPS (e.g. `api.example.com`): a
    /// name, or `{ name, zone, wait_minutes }`.
    #[serde(default)]
    #[schemars(with = "Option<DomainSchema>")]
    pub domain: Option<Spanned<DomainFile>>,
    /// What `stackctl check load` does by default, and the limits it must keep to pass.
    #[serde(default)]
    pub checks: Option<ChecksFile>,
    /// Deploys from CI without stored keys: the GitHub repository (and branch or GitHub
    /// environment) whose workflows may assume the stack's deploy role.
    #[serde(default)]
    pub ci: Option<CiFile>,
    /// Overlays merged over the base file with `--env NAME`.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentFile>,
}

/// `ci:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiFile {
    /// GitHub Actions, through GitHub's OpenID Connect provider.
    pub github: GitHubFile,
}

/// `ci.github:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitHubFile {
    /// `owner/name` of the repository whose workflows may deploy.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$"))]
    pub repository: Spanned<String>,
    /// The branch that deploys on push. Default `main`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub branch: Option<Spanned<String>>,
    /// A GitHub environment the deploy job runs in: then only jobs in it may deploy (its
    /// protection rules decide which branches and who approves).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub environment: Option<Spanned<String>>,
}

/// `checks:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// `stackctl check load`.
    #[serde(default)]
    pub load: Option<LoadCheckFile>,
}

/// `checks.load:`; the command line's `--rate`, `--duration`, `--max-errors`, `--max-p99`
/// win over these.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadCheckFile {
    /// Requests a second, 1 to 20000. Default 20.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 20000))]
    pub rate: Option<Spanned<u32>>,
    /// How long, e.g. `30s`, `5m` (1s to 1h). Default 30s.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub duration: Option<Spanned<String>>,
    /// Failed requests allowed, in percent of those sent. Default 0.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 100))]
    pub max_errors_percent: Option<Spanned<f64>>,
    /// The 99th percentile latency allowed, in milliseconds. Default: none.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 600000))]
    pub max_p99_ms: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// IPv4 CIDR of the VPC, /16 to /23 (its subnets, a sixteenth each, must be /27 or larger for the load balancer). Default 10.42.0.0/16.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cidr: Option<Spanned<String>>,
    /// Number of availability zones (public subnets), 2 to 6. Default 2, or as many as `zones`.
    #[serde(default)]
    #[schemars(with = "Option<u8>", range(min = 2, max = 6))]
    pub azs: Option<Spanned<u8>>,
    /// Pin the availability zones by name (e.g. `[us-east-1a, us-east-1b]`), one subnet each.
    /// Default: the region's first zones that are available, need no opt-in and run Fargate.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub zones: Option<Vec<Spanned<String>>>,
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
    /// With `build`: an image to put the binary on (e.g. `debian:bookworm-slim` for CA
    /// certificates or a shell), pinned by digest at build time. Default: none, the binary
    /// alone.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub base: Option<Spanned<String>>,
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
    /// Served by the load balancer: `true` for every request no other service's route takes,
    /// or `{ paths, host }` for the requests that match.
    #[serde(default)]
    #[schemars(with = "Option<PublicSchema>")]
    pub public: Option<PublicFile>,
    /// Services this one calls by name inside the VPC (e.g. `[users]`): each is given
    /// `<NAME>_URL`, and only these may reach the callee's port.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub calls: Vec<Spanned<String>>,
    /// `true`: the service gets an API token, kept in SSM Parameter Store as a SecureString
    /// and given to the container as `API_TOKEN` (and `API_TOKEN_PREVIOUS` during a rotation).
    #[serde(default)]
    #[schemars(with = "Option<TokenSchema>")]
    pub token: Option<TokenFile>,
    /// Plain environment variables (never secrets).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<String, Spanned<String>>,
    /// Autoscaling: the task count follows the load between `min` and `max`; `desired` is
    /// only the starting count.
    #[serde(default)]
    pub scaling: Option<ScalingFile>,
    /// How `up` replaces the tasks with a new version: `rolling` (the default), or for a
    /// public service `blue-green`, `canary` or `linear`, where ECS moves the load balancer's
    /// requests from the old version to the new one.
    #[serde(default)]
    #[schemars(with = "Option<DeploySchema>")]
    pub deploy: Option<Spanned<DeployFile>>,
}

impl ServiceFile {
    /// Served by the load balancer, by default or by a route.
    pub fn is_public(&self) -> bool {
        !matches!(self.public, None | Some(PublicFile::On(false)))
    }
}

/// `scaling:` of a service: Application Auto Scaling target tracking on ECS's task count.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingFile {
    /// Fewest tasks, 1 to 100.
    #[schemars(with = "u32", range(min = 1, max = 100))]
    pub min: Spanned<u32>,
    /// Most tasks, `min` to 100.
    #[schemars(with = "u32", range(min = 1, max = 100))]
    pub max: Spanned<u32>,
    /// Target average CPU use of the tasks, in percent (10 to 90).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 10, max = 90))]
    pub cpu: Option<Spanned<u32>>,
    /// Target requests per task per minute through the load balancer (public services,
    /// 1 to 100000).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 100000))]
    pub requests: Option<Spanned<u32>>,
}

/// `database:`: one RDS for PostgreSQL instance in private subnets.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// PostgreSQL version RDS runs: a major version (`"18"`, the newest minor, kept current
    /// by RDS's automatic minor upgrades) or an exact one (`"18.3"`). Quote it.
    #[schemars(with = "String")]
    pub version: Spanned<String>,
    /// RDS instance class. Default `db.t4g.micro`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub size: Option<Spanned<String>>,
    /// Storage in GiB, 20 to 65536 (gp3). Default 20. It can grow, never shrink.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub storage_gb: Option<Spanned<u32>>,
    /// Days of automated backups (point-in-time recovery), 1 to 35. Default 7.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub backup_days: Option<Spanned<u32>>,
    /// A standby in a second availability zone. Default false.
    #[serde(default)]
    pub multi_az: bool,
    /// RDS refuses to delete the instance while on. Default false.
    #[serde(default)]
    pub deletion_protection: bool,
    /// The services given the connection (their security groups may reach port 5432).
    #[schemars(with = "Vec<String>")]
    pub services: Vec<Spanned<String>>,
    /// Name of the database created in the instance. Default `app`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Master user name (its password is made and kept by RDS in Secrets Manager). Default `app`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// Create the instance from this DB snapshot (e.g. the one `stackctl down` printed).
    /// Used only when the instance does not exist yet.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub snapshot: Option<Spanned<String>>,
    /// When size, storage and multi-AZ changes apply: `now` or `maintenance-window` (RDS
    /// applies backup, deletion-protection and security-group changes at once). Default `now`.
    #[serde(default)]
    #[schemars(
        with = "Option<String>",
        regex(pattern = r"^(now|maintenance-window)$")
    )]
    pub apply: Option<Spanned<String>>,
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
    #[serde(default)]
    #[schemars(with = "Option<DatabaseOverlaySchema>")]
    pub database: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(with = "Option<DomainSchema>")]
    pub domain: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(with = "Option<ChecksFile>")]
    pub checks: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(with = "Option<CiFile>")]
    pub ci: Option<serde::de::IgnoredAny>,
}

/// Schema only: a database overlay may set any database key.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct DatabaseOverlaySchema {
    version: Option<String>,
    size: Option<String>,
    storage_gb: Option<u32>,
    backup_days: Option<u32>,
    multi_az: Option<bool>,
    deletion_protection: Option<bool>,
    services: Option<Vec<String>>,
    name: Option<String>,
    user: Option<String>,
    snapshot: Option<String>,
    apply: Option<String>,
}

/// Schema only: a service overlay may set any service key.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct ServiceOverlaySchema {
    build: Option<String>,
    image: Option<String>,
    base: Option<String>,
    port: Option<u16>,
    cpu: Option<u32>,
    memory: Option<u32>,
    desired: Option<u32>,
    health: Option<String>,
    public: Option<PublicSchema>,
    calls: Option<Vec<String>>,
    token: Option<TokenSchema>,
    env: Option<BTreeMap<String, String>>,
    scaling: Option<ScalingOverlaySchema>,
    deploy: Option<DeploySchema>,
}

/// Schema only: a scaling overlay may set any scaling key.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct ScalingOverlaySchema {
    min: Option<u32>,
    max: Option<u32>,
    cpu: Option<u32>,
    requests: Option<u32>,
}
