//! What `up` does to an existing resource to bring it in line.

use serde::Serialize;

use super::resource::{HealthCheck, Key, Rule};

/// One corrective action on an existing resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    EnableDnsHostnames,
    EnableDnsSupport,
    MapPublicIp,
    AttachGateway,
    AddRoute {
        destination: String,
    },
    ReplaceRoute {
        destination: String,
    },
    Associate {
        subnet: Key,
    },
    Disassociate {
        association: String,
        subnet_id: String,
    },
    Authorize {
        rule: Rule,
    },
    Revoke {
        rule: Rule,
    },
    ScanOnPush,
    PutLifecyclePolicy {
        policy: String,
    },
    SetRetention {
        days: i32,
    },
    UpdateTrustPolicy {
        document: String,
    },
    AttachPolicy {
        arn: String,
    },
    DetachPolicy {
        arn: String,
    },
    PutInlinePolicy {
        name: String,
        document: String,
    },
    DeleteInlinePolicy {
        name: String,
    },
    CapacityProviders,
    SetSubnets {
        subnets: Vec<Key>,
    },
    SetSecurityGroup {
        group: Key,
    },
    SetHealthCheck {
        health: HealthCheck,
    },
    SetDeregistrationDelay {
        seconds: i32,
    },
    SetListenerTarget {
        target_group: Key,
    },
    /// Register a new task definition revision (ECS revisions are immutable).
    RegisterRevision {
        changed: Vec<String>,
    },
    /// One UpdateService call bringing every setting in line (a new deployment).
    UpdateService {
        changed: Vec<String>,
    },
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::EnableDnsHostnames => write!(f, "enable DNS hostnames"),
            Fix::EnableDnsSupport => write!(f, "enable DNS support"),
            Fix::MapPublicIp => write!(f, "assign public IPs on launch"),
            Fix::AttachGateway => write!(f, "attach to the VPC"),
            Fix::AddRoute { destination } => {
                write!(f, "add route {destination} → internet gateway")
            }
            Fix::ReplaceRoute { destination } => {
                write!(f, "point route {destination} at the internet gateway")
            }
            Fix::Associate { subnet } => write!(f, "associate {subnet}"),
            Fix::Disassociate { subnet_id, .. } => write!(f, "disassociate {subnet_id}"),
            Fix::Authorize { rule } => write!(f, "allow {rule}"),
            Fix::Revoke { rule } => write!(f, "revoke {rule}"),
            Fix::ScanOnPush => write!(f, "enable scan on push"),
            Fix::PutLifecyclePolicy { .. } => write!(f, "set the image lifecycle policy"),
            Fix::SetRetention { days } => write!(f, "keep logs {days} days"),
            Fix::UpdateTrustPolicy { .. } => write!(f, "reset the trust policy"),
            Fix::AttachPolicy { arn } => write!(f, "attach {arn}"),
            Fix::DetachPolicy { arn } => write!(f, "detach {arn}"),
            Fix::PutInlinePolicy { name, .. } => write!(f, "set inline policy {name}"),
            Fix::DeleteInlinePolicy { name } => write!(f, "delete inline policy {name}"),
            Fix::CapacityProviders => {
                write!(f, "use the FARGATE and FARGATE_SPOT capacity providers")
            }
            Fix::SetSubnets { .. } => write!(f, "place in the stack's public subnets"),
            Fix::SetSecurityGroup { group } => write!(f, "use security group {group}"),
            Fix::SetHealthCheck { health } => {
                write!(f, "health check {} every {}s", health.path, health.interval)
            }
            Fix::SetDeregistrationDelay { seconds } => write!(f, "deregistration delay {seconds}s"),
            Fix::SetListenerTarget { target_group } => write!(f, "forward to {target_group}"),
            Fix::RegisterRevision { changed } => {
                write!(f, "register a new revision ({})", changed.join(", "))
            }
            Fix::UpdateService { changed } => write!(f, "deploy ({})", changed.join(", ")),
        }
    }
}
