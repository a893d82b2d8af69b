//! Pure data: what a resource should be (`Spec`) and what AWS says it is (`Observed`).

use serde::Serialize;

pub use super::ecs::{Deployment, ServiceSpec, ServiceState, TaskDef};

/// Logical id of a resource within a stack, e.g. `subnet/1`, `sg/alb`, `role/exec`.
/// It is also the value of the `stackctl:resource` tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key(pub String);

impl Key {
    pub fn new(kind: Kind, name: &str) -> Key {
        Key(format!("{}/{name}", kind.prefix()))
    }
    pub fn kind(&self) -> Kind {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| self.0.split('/').next() == Some(k.prefix()))
            .unwrap_or(Kind::Vpc)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    SecurityGroup,
    Repository,
    LogGroup,
    Role,
    Parameter,
    Cluster,
    LoadBalancer,
    TargetGroup,
    Listener,
    TaskDefinition,
    Service,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Vpc,
        Kind::Subnet,
        Kind::InternetGateway,
        Kind::RouteTable,
        Kind::SecurityGroup,
        Kind::Repository,
        Kind::LogGroup,
        Kind::Role,
        Kind::Parameter,
        Kind::Cluster,
        Kind::LoadBalancer,
        Kind::TargetGroup,
        Kind::Listener,
        Kind::TaskDefinition,
        Kind::Service,
    ];
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "igw",
            Kind::RouteTable => "rtb",
            Kind::SecurityGroup => "sg",
            Kind::Repository => "ecr",
            Kind::LogGroup => "logs",
            Kind::Role => "role",
            Kind::Parameter => "ssm",
            Kind::Cluster => "cluster",
            Kind::LoadBalancer => "alb",
            Kind::TargetGroup => "tg",
            Kind::Listener => "listener",
            Kind::TaskDefinition => "taskdef",
            Kind::Service => "service",
        }
    }
    /// Human label used in plans and progress.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Vpc => "VPC",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internet gateway",
            Kind::RouteTable => "route table",
            Kind::SecurityGroup => "security group",
            Kind::Repository => "ECR repository",
            Kind::LogGroup => "log group",
            Kind::Role => "IAM role",
            Kind::Parameter => "SSM parameter",
            Kind::Cluster => "ECS cluster",
            Kind::LoadBalancer => "load balancer",
            Kind::TargetGroup => "target group",
            Kind::Listener => "listener",
            Kind::TaskDefinition => "task definition",
            Kind::Service => "ECS service",
        }
    }
}

/// Where a security-group rule admits traffic from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    Cidr4(String),
    Cidr6(String),
    /// Another group of this stack (resolved to its id at apply time).
    Group(Key),
    /// A group id as AWS reports it.
    GroupId(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Rule {
    pub protocol: String,
    pub from: i32,
    pub to: i32,
    pub peer: Peer,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ports = if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        };
        let peer = match &self.peer {
            Peer::Cidr4(c) | Peer::Cidr6(c) => c.clone(),
            Peer::Group(k) => k.0.clone(),
            Peer::GroupId(id) => id.clone(),
        };
        write!(f, "{}/{ports} from {peer}", self.protocol)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Spec {
    Vpc {
        cidr: String,
    },
    Subnet {
        cidr: String,
        az: String,
        vpc: Key,
    },
    InternetGateway {
        vpc: Key,
    },
    RouteTable {
        vpc: Key,
        gateway: Key,
        subnets: Vec<Key>,
    },
    SecurityGroup {
        vpc: Key,
        description: String,
        ingress: Vec<Rule>,
    },
    Repository {
        scan_on_push: bool,
        lifecycle_policy: String,
    },
    LogGroup {
        retention_days: i32,
    },
    Role {
        path: String,
        trust_policy: String,
        managed: Vec<String>,
        inline: Vec<(String, String)>,
    },
    Parameter {
        description: String,
    },
    Cluster {
        capacity_providers: Vec<String>,
    },
    LoadBalancer {
        subnets: Vec<Key>,
        security_group: Key,
        /// An internet-facing load balancer is refused in a VPC without an attached
        /// internet gateway (`InvalidSubnet`): created after the gateway's attachment.
        gateway: Key,
    },
    TargetGroup {
        vpc: Key,
        port: i32,
        health: HealthCheck,
        deregistration_delay: i32,
    },
    Listener {
        load_balancer: Key,
        target_group: Key,
    },
    TaskDefinition {
        def: TaskDef,
    },
    Service(ServiceSpec),
}

/// A target group's health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    pub path: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy: i32,
    pub unhealthy: i32,
}

/// A resource the stack should have.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    pub key: Key,
    /// The AWS name (Name tag, or the resource's own name).
    pub name: String,
    pub spec: Spec,
}

impl Desired {
    /// Resources that must exist before this one can be created.
    pub fn deps(&self) -> Vec<Key> {
        match &self.spec {
            Spec::Subnet { vpc, .. } | Spec::InternetGateway { vpc } => vec![vpc.clone()],
            Spec::RouteTable {
                vpc,
                gateway,
                subnets,
            } => {
                let mut d = vec![vpc.clone(), gateway.clone()];
                d.extend(subnets.iter().cloned());
                d
            }
            Spec::SecurityGroup { vpc, ingress, .. } => {
                let mut d = vec![vpc.clone()];
                d.extend(ingress.iter().filter_map(|r| match &r.peer {
                    Peer::Group(k) => Some(k.clone()),
                    _ => None,
                }));
                d
            }
            Spec::LoadBalancer {
                subnets,
                security_group,
                gateway,
            } => {
                let mut d = subnets.clone();
                d.extend([security_group.clone(), gateway.clone()]);
                d
            }
            Spec::TargetGroup { vpc, .. } => vec![vpc.clone()],
            Spec::Listener {
                load_balancer,
                target_group,
            } => vec![load_balancer.clone(), target_group.clone()],
            Spec::Service(s) => {
                let mut d = vec![
                    s.cluster.clone(),
                    s.task_definition.clone(),
                    s.security_group.clone(),
                ];
                d.extend(s.subnets.iter().cloned());
                if let Some((tg, listener)) = &s.target_group {
                    d.extend([tg.clone(), listener.clone()]);
                }
                d
            }
            _ => vec![],
        }
    }
}

/// What AWS reports for a resource of the stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum State {
    Vpc {
        cidr: String,
        dns_hostnames: bool,
        dns_support: bool,
    },
    Subnet {
        cidr: String,
        az: String,
        vpc_id: String,
        public_ip_on_launch: bool,
    },
    InternetGateway {
        attached_vpc: Option<String>,
    },
    RouteTable {
        vpc_id: String,
        routes: Vec<(String, String)>,
        associations: Vec<(String, String)>,
    },
    SecurityGroup {
        vpc_id: String,
        ingress: Vec<Rule>,
    },
    Repository {
        scan_on_push: bool,
        lifecycle_policy: Option<String>,
    },
    LogGroup {
        retention_days: Option<i32>,
    },
    Role {
        path: String,
        trust_policy: String,
        managed: Vec<String>,
        inline: Vec<(String, String)>,
    },
    Parameter {
        version: i64,
        generation: u32,
    },
    Cluster {
        status: String,
        capacity_providers: Vec<String>,
    },
    LoadBalancer {
        state: String,
        dns_name: String,
        subnet_ids: Vec<String>,
        security_groups: Vec<String>,
    },
    TargetGroup {
        vpc_id: String,
        port: i32,
        target_type: String,
        health: HealthCheck,
        deregistration_delay: Option<i32>,
    },
    Listener {
        port: i32,
        target_group: Option<String>,
    },
    TaskDefinition {
        revision: i32,
        def: TaskDef,
    },
    Service(ServiceState),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub key: Key,
    /// The AWS id or ARN used to act on it.
    pub id: String,
    pub name: String,
    pub state: State,
}
