//! The validated stack: what the rest of stackctl works from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::Ipv4Net;

use crate::names::Names;

#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: String,
    pub env: String,
    pub region: Option<String>,
    pub network: Network,
    pub services: BTreeMap<String, Service>,
    pub database: Option<Database>,
    /// The public entry point's own name, over HTTPS.
    pub domain: Option<Domain>,
    /// What `stackctl check` does by default.
    pub checks: Checks,
    /// Who deploys from CI (`ci.github`).
    pub ci: Option<GitHub>,
}

/// `ci.github:`: the repository whose workflows may plan (on pull requests) and deploy (on
/// the branch, or in the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct GitHub {
    /// `owner/name`.
    pub repository: String,
    pub branch: String,
    pub environment: Option<String>,
}

impl GitHub {
    /// The `sub` claim of GitHub's token for a deploy job: in the environment when there is
    /// one, else on a push to the branch (GitHub Docs, "About security hardening with OpenID
    /// Connect", example subject claims).
    pub fn deploy_subject(&self) -> String {
        match &self.environment {
            Some(e) => format!("repo:{}:environment:{e}", self.repository),
            None => format!("repo:{}:ref:refs/heads/{}", self.repository, self.branch),
        }
    }

    /// The `sub` claim of a pull request's jobs.
    pub fn plan_subject(&self) -> String {
        format!("repo:{}:pull_request", self.repository)
    }
}

/// `checks:` of stack.yaml, with its defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checks {
    pub load: LoadCheck,
}

/// `stackctl check load`'s rate, duration and the limits it must keep to pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadCheck {
    pub rate: u32,
    pub duration: std::time::Duration,
    pub max_errors_percent: f64,
    pub max_p99_ms: Option<f64>,
}

impl Default for LoadCheck {
    fn default() -> LoadCheck {
        LoadCheck {
            rate: 20,
            duration: std::time::Duration::from_secs(30),
            max_errors_percent: 0.0,
            max_p99_ms: None,
        }
    }
}

/// `domain:`: the name clients use, served over HTTPS with an ACM certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// Lowercase, without a trailing dot.
    pub name: String,
    /// The hosted zone to use; None: the one whose name is the longest suffix.
    pub zone: Option<String>,
    /// How long `up` waits for the certificate.
    pub wait_minutes: u32,
}

impl Stack {
    pub fn names(&self) -> Names {
        Names::new(&self.name, &self.env)
    }

    /// The stack's database when `service` is one it is given to.
    pub fn database_of(&self, service: &str) -> Option<&Database> {
        self.database
            .as_ref()
            .filter(|d| d.services.iter().any(|s| s == service))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub cidr: Ipv4Net,
    pub azs: u8,
    /// Zones pinned by name, one per subnet; empty: chosen from the region's.
    pub zones: Vec<String>,
}

impl Network {
    /// The prefix length of the subnets of a VPC range: a sixteenth of it, at most /28.
    pub fn subnet_prefix(cidr: Ipv4Net) -> u8 {
        (cidr.prefix_len() + 4).min(28)
    }

    /// The public subnets' CIDRs: the VPC range split in 16, first `azs` of them.
    pub fn subnet_cidrs(&self) -> Vec<Ipv4Net> {
        self.cidr
            .subnets(Self::subnet_prefix(self.cidr))
            .expect("prefix within range")
            .take(self.azs as usize)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A Cargo package directory, built into an image without Docker.
    Build(PathBuf),
    /// A prebuilt image reference, resolved to a digest before deploy.
    Image(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub source: Source,
    /// The image a built binary goes on (`build:` only); None: the binary alone.
    pub base: Option<String>,
    pub port: u16,
    pub cpu: u32,
    pub memory: u32,
    pub desired: u32,
    pub health: String,
    pub public: bool,
    /// The requests the load balancer sends here; None for the default public service (and
    /// private ones).
    pub route: Option<Route>,
    /// Services this one calls by name, given as `<NAME>_URL`.
    pub calls: Vec<String>,
    /// Gets an API token, as [`TOKEN_ENV`].
    pub token: bool,
    pub env: BTreeMap<String, String>,
    /// Autoscaling; `desired` is then only the count a new service starts with.
    pub scaling: Option<Scaling>,
    /// How a new version replaces the running one.
    pub deploy: Deploy,
}

/// `deploy:`: how ECS replaces a service's tasks with a new version. The three that shift
/// traffic start the new tasks beside the old ones, then move the load balancer's requests
/// (ECS Developer Guide, "Amazon ECS blue/green service deployments workflow").
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
#[serde(tag = "strategy", rename_all = "kebab-case")]
pub enum Deploy {
    /// New tasks replace old ones a few at a time; both serve meanwhile.
    #[default]
    Rolling,
    /// Every request moves at once.
    BlueGreen { bake_minutes: u32 },
    /// `percent` of the requests first, the rest after `wait_minutes`.
    Canary {
        percent: f64,
        wait_minutes: u32,
        bake_minutes: u32,
    },
    /// `percent` more of the requests every `wait_minutes`.
    Linear {
        percent: f64,
        wait_minutes: u32,
        bake_minutes: u32,
    },
}

impl Deploy {
    /// The name in stack.yaml.
    pub fn name(&self) -> &'static str {
        match self {
            Deploy::Rolling => "rolling",
            Deploy::BlueGreen { .. } => "blue-green",
            Deploy::Canary { .. } => "canary",
            Deploy::Linear { .. } => "linear",
        }
    }

    /// Whether ECS moves the load balancer's requests between two target groups.
    pub fn shifts_traffic(&self) -> bool {
        *self != Deploy::Rolling
    }

    /// The minutes the strategy itself waits, beyond starting the tasks: the traffic shift's
    /// waits and the bake time.
    pub fn minutes(&self) -> u32 {
        match *self {
            Deploy::Rolling => 0,
            Deploy::BlueGreen { bake_minutes } => bake_minutes,
            Deploy::Canary {
                wait_minutes,
                bake_minutes,
                ..
            } => wait_minutes + bake_minutes,
            Deploy::Linear {
                percent,
                wait_minutes,
                bake_minutes,
            } => {
                // No wait after the step that reaches 100 percent.
                let steps = (100.0 / percent).ceil() as u32;
                wait_minutes * steps.saturating_sub(1) + bake_minutes
            }
        }
    }
}

/// A public service's share of the load balancer's requests: those matching a path (any of
/// `paths`) and, when given, the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub paths: Vec<String>,
    pub host: Option<String>,
}

/// Target tracking on a service's task count (Application Auto Scaling).
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    pub min: u32,
    pub max: u32,
    /// Target average CPU percent.
    pub cpu: Option<u32>,
    /// Target requests per task per minute (`ALBRequestCountPerTarget`).
    pub requests: Option<u32>,
}

/// The variable a service reads its API token from (and, during a rotation, the previous one
/// from the same name with `_PREVIOUS`).
pub const TOKEN_ENV: &str = "API_TOKEN";

/// A managed PostgreSQL (RDS) in the stack's private subnets.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// `18` (a major version: RDS picks and upgrades the minor) or `18.3`.
    pub version: String,
    pub size: String,
    pub storage_gb: u32,
    pub backup_days: u32,
    pub multi_az: bool,
    pub deletion_protection: bool,
    /// Services given the connection, by name.
    pub services: Vec<String>,
    pub name: String,
    pub user: String,
    /// Restore from this snapshot when the instance does not exist yet.
    pub snapshot: Option<String>,
    /// In-place changes apply at once (else in the maintenance window).
    pub apply_now: bool,
}

impl Database {
    /// The major version (`18` of `18.3`).
    pub fn major(&self) -> &str {
        self.version.split('.').next().unwrap_or(&self.version)
    }
}

impl Network {
    /// The private subnets' CIDRs (the database's): the second half of the VPC's sixteenths,
    /// one per zone, so adding them never moves a public subnet.
    pub fn private_cidrs(&self) -> Vec<Ipv4Net> {
        self.cidr
            .subnets(Self::subnet_prefix(self.cidr))
            .expect("prefix within range")
            .skip(8)
            .take(self.azs as usize)
            .collect()
    }
}
