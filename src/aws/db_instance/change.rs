//! The in-place changes `up` makes to the instance, and how a plan shows them.

use serde::Serialize;

/// One in-place change, as ModifyDBInstance makes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    Size { from: String, to: String },
    Storage { from: i32, to: i32 },
    Backups { from: i32, to: i32 },
    MultiAz { to: bool },
    DeletionProtection { to: bool },
    Version { from: String, to: String },
    NotPublic,
    SecurityGroup,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Size { from, to } => write!(f, "size {from} → {to}"),
            Change::Storage { from, to } => write!(f, "storage {from} → {to} GiB"),
            Change::Backups { from, to } => write!(f, "backups {from} → {to} days"),
            Change::MultiAz { to } => write!(f, "multi-AZ {}", on_off(*to)),
            Change::DeletionProtection { to } => write!(f, "deletion protection {}", on_off(*to)),
            Change::Version { from, to } => write!(f, "PostgreSQL {from} → {to}"),
            Change::NotPublic => write!(f, "not publicly accessible"),
            Change::SecurityGroup => write!(f, "only the database's security group"),
        }
    }
}

impl Change {
    /// Whether RDS waits for the maintenance window when asked to (ApplyImmediately false).
    /// Backup retention between non-zero values, deletion protection, security groups and
    /// public access apply at once whatever is asked (RDS API Reference, ModifyDBInstance).
    pub(super) fn can_wait(&self) -> bool {
        matches!(
            self,
            Change::Size { .. }
                | Change::Storage { .. }
                | Change::MultiAz { .. }
                | Change::Version { .. }
        )
    }
}

pub(super) fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    Modify { changes: Vec<Change>, now: bool },
    /// An instance restored from a snapshot made without it: RDS takes the password over.
    ManagePassword,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::Modify { changes, now } => {
                let list = |wait: bool| -> String {
                    let l: Vec<String> = changes
                        .iter()
                        .filter(|c| (!*now && c.can_wait()) == wait)
                        .map(|c| c.to_string())
                        .collect();
                    l.join(", ")
                };
                let (at_once, later) = (list(false), list(true));
                match (at_once.is_empty(), later.is_empty()) {
                    (false, true) => write!(f, "{at_once} (now)"),
                    (true, false) => write!(f, "{later} (in the next maintenance window)"),
                    _ => write!(f, "{at_once} (now); {later} (in the next maintenance window)"),
                }
            }
            Fix::ManagePassword => write!(f, "let RDS manage the master password in Secrets Manager"),
        }
    }
}

/// What RDS reports once `spec` holds (the planner's tests).
#[cfg(test)]
pub(super) fn converged(
    spec: &super::Spec,
    id: &dyn Fn(&crate::plan::Key) -> String,
) -> super::State {
    use super::{ENGINE, PORT, State};
    State {
        engine: ENGINE.into(),
        version: if spec.version.contains('.') {
            spec.version.clone()
        } else {
            format!("{}.3", spec.version)
        },
        size: spec.size.clone(),
        storage_gb: spec.storage_gb,
        backup_days: spec.backup_days,
        multi_az: spec.multi_az,
        deletion_protection: spec.deletion_protection,
        encrypted: true,
        public: false,
        subnet_group: id(&spec.subnet_group),
        security_groups: vec![id(&spec.security_group)],
        db_name: spec.db_name.clone(),
        user: spec.user.clone(),
        status: "available".into(),
        endpoint: Some(("db.example".into(), PORT)),
        secret_arn: Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1-AbCdEf".into()),
        pending: vec![],
    }
}
