//! Pure data: a resource's key, what it should be (`Desired`) and what AWS says it is
//! (`Observed`). Each kind's `Spec` and `State` live in its module under `src/aws/`.

use serde::Serialize;

pub use super::ecs::{Deployment, ServiceSpec, ServiceState, TaskDef};
pub use crate::aws::registry::{Fix, Kind, Spec, State};

/// Logical id of a resource within a stack, e.g. `subnet/1`, `sg/alb`, `role/exec`.
/// It is also the value of the `stackctl:resource` tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key(pub String);

impl Key {
    pub fn new(kind: Kind, name: &str) -> Key {
        Key(format!("{}/{name}", kind.prefix()))
    }
    /// The part after the kind's prefix (`api` of `service/api`).
    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or(self.0.as_str(), |(_, n)| n)
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

impl Rule {
    /// This rule with a group of the stack replaced by its id, as `id_of` gives it.
    pub fn resolved<E>(&self, id_of: impl FnOnce(&Key) -> Result<String, E>) -> Result<Rule, E> {
        let peer = match &self.peer {
            Peer::Group(k) => Peer::GroupId(id_of(k)?),
            other => other.clone(),
        };
        Ok(Rule {
            peer,
            ..self.clone()
        })
    }
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
        self.spec.deps()
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
