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
    /// The kind its prefix names, if any (a key read from a tag may be anything).
    pub fn kind(&self) -> Option<Kind> {
        let prefix = self.0.split('/').next()?;
        Kind::ALL.iter().copied().find(|k| k.prefix() == prefix)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of resource, each with its key prefix and its label in plans and progress: one
/// row each, so `ALL`, `prefix` and `label` cannot miss one.
macro_rules! kinds {
    ($($kind:ident => $prefix:literal, $label:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Kind {
            $($kind),*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),*];
            pub fn prefix(self) -> &'static str {
                match self {
                    $(Kind::$kind => $prefix),*
                }
            }
            /// Human label used in plans and progress.
            pub fn label(self) -> &'static str {
                match self {
                    $(Kind::$kind => $label),*
                }
            }
        }
    };
}

kinds! {
    Vpc => "vpc", "VPC";
    Subnet => "subnet", "subnet";
    InternetGateway => "igw", "internet gateway";
    RouteTable => "rtb", "route table";
    SecurityGroup => "sg", "security group";
    Repository => "ecr", "ECR repository";
    LogGroup => "logs", "log group";
    Role => "role", "IAM role";
    Parameter => "ssm", "SSM parameter";
    Cluster => "cluster", "ECS cluster";
    LoadBalancer => "alb", "load balancer";
    TargetGroup => "tg", "target group";
    Listener => "listener", "listener";
    TaskDefinition => "taskdef", "task definition";
    Service => "service", "ECS service";
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

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Vpc { .. } => Kind::Vpc,
            Spec::Subnet { .. } => Kind::Subnet,
            Spec::InternetGateway { .. } => Kind::InternetGateway,
            Spec::RouteTable { .. } => Kind::RouteTable,
            Spec::SecurityGroup { .. } => Kind::SecurityGroup,
            Spec::Repository { .. } => Kind::Repository,
            Spec::LogGroup { .. } => Kind::LogGroup,
            Spec::Role { .. } => Kind::Role,
            Spec::Parameter { .. } => Kind::Parameter,
            Spec::Cluster { .. } => Kind::Cluster,
            Spec::LoadBalancer { .. } => Kind::LoadBalancer,
            Spec::TargetGroup { .. } => Kind::TargetGroup,
            Spec::Listener { .. } => Kind::Listener,
            Spec::TaskDefinition { .. } => Kind::TaskDefinition,
            Spec::Service(_) => Kind::Service,
        }
    }
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
            Spec::Vpc { .. }
            | Spec::Repository { .. }
            | Spec::LogGroup { .. }
            | Spec::Role { .. }
            | Spec::Parameter { .. }
            | Spec::Cluster { .. }
            | Spec::TaskDefinition { .. } => vec![],
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

impl State {
    pub fn kind(&self) -> Kind {
        match self {
            State::Vpc { .. } => Kind::Vpc,
            State::Subnet { .. } => Kind::Subnet,
            State::InternetGateway { .. } => Kind::InternetGateway,
            State::RouteTable { .. } => Kind::RouteTable,
            State::SecurityGroup { .. } => Kind::SecurityGroup,
            State::Repository { .. } => Kind::Repository,
            State::LogGroup { .. } => Kind::LogGroup,
            State::Role { .. } => Kind::Role,
            State::Parameter { .. } => Kind::Parameter,
            State::Cluster { .. } => Kind::Cluster,
            State::LoadBalancer { .. } => Kind::LoadBalancer,
            State::TargetGroup { .. } => Kind::TargetGroup,
            State::Listener { .. } => Kind::Listener,
            State::TaskDefinition { .. } => Kind::TaskDefinition,
            State::Service(_) => Kind::Service,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub key: Key,
    /// The AWS id or ARN used to act on it.
    pub id: String,
    pub name: String,
    pub state: State,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_prefix_and_an_unknown_prefix_is_no_kind() {
        for k in Kind::ALL {
            assert_eq!(Key::new(*k, "x").kind(), Some(*k));
        }
        let prefixes: std::collections::HashSet<_> = Kind::ALL.iter().map(|k| k.prefix()).collect();
        assert_eq!(prefixes.len(), Kind::ALL.len());
        // A tag written by a newer stackctl, say: never read as some other kind.
        assert_eq!(Key("bucket/assets".into()).kind(), None);
    }
}
