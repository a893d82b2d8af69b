//! Pure data: what a resource should be (`Spec`) and what AWS says it is (`Observed`).

use serde::Serialize;

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
}

impl Kind {
    pub const ALL: [Kind; 10] = [
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
    },
    Cluster {
        status: String,
        capacity_providers: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub key: Key,
    /// The AWS id or ARN used to act on it.
    pub id: String,
    pub name: String,
    pub state: State,
}
