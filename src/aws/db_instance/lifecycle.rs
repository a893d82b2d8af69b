//! The instance as RDS reports it, waiting on it (ready, gone), and its snapshots.

use std::time::{Duration, Instant};

use aws_sdk_rds::types::DbInstance as Instance;
use serde::Serialize;

use super::change::on_off;
use super::{PORT, State};
use crate::aws::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;

/// One of that name exists, without the stack's tags.
pub(super) fn not_ours(name: &str) -> AwsError {
    let mut e = AwsError::new(
        "create",
        format!("DB instance {name}"),
        "an instance of that name exists and is not this stack's (it lacks the stack's stackctl:stack and stackctl:env tags)",
    );
    e.hint = Some(
        "stackctl never takes over a database it did not make: use another stack or environment name, or rename that instance".into(),
    );
    e
}

/// The stack's instance, if any: `(identifier, state)`. One of that name without the stack's
/// tags is not the stack's: never observed, so never changed or deleted.
pub async fn describe(aws: &Aws, names: &Names) -> Result<Option<(String, State)>, AwsError> {
    let name = names.db_instance();
    let out = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(&name)
        .send()
        .await
        .ctx("describe DB instance", &name)
        .ok_if_not_found()?;
    let instances = out.as_ref().map(|o| o.db_instances()).unwrap_or_default();
    Ok(instances
        .iter()
        .find(|i| i.db_instance_identifier().is_some_and(|id| id.eq_ignore_ascii_case(&name)))
        .filter(|i| {
            names.owns(
                i.tag_list()
                    .iter()
                    .filter_map(|t| Some((t.key()?, t.value()?))),
            )
        })
        .map(|i| (name.clone(), state_of(i))))
}

pub(super) fn state_of(i: &Instance) -> State {
    let p = i.pending_modified_values();
    let mut pending = Vec::new();
    let mut note = |what: String| pending.push(what);
    let size = match p.and_then(|p| p.db_instance_class()) {
        Some(to) => {
            note(format!("size {to}"));
            to.to_string()
        }
        None => i.db_instance_class().unwrap_or_default().to_string(),
    };
    let storage_gb = match p.and_then(|p| p.allocated_storage()) {
        Some(to) => {
            note(format!("storage {to} GiB"));
            to
        }
        None => i.allocated_storage().unwrap_or_default(),
    };
    let backup_days = match p.and_then(|p| p.backup_retention_period()) {
        Some(to) => {
            note(format!("backups {to} days"));
            to
        }
        None => i.backup_retention_period().unwrap_or_default(),
    };
    let multi_az = match p.and_then(|p| p.multi_az()) {
        Some(to) => {
            note(format!("multi-AZ {}", on_off(to)));
            to
        }
        None => i.multi_az().unwrap_or(false),
    };
    let version = match p.and_then(|p| p.engine_version()) {
        Some(to) => {
            note(format!("PostgreSQL {to}"));
            to.to_string()
        }
        None => i.engine_version().unwrap_or_default().to_string(),
    };
    let endpoint = i
        .endpoint()
        .and_then(|e| Some((e.address()?.to_string(), e.port().unwrap_or(PORT))));
    State {
        engine: i.engine().unwrap_or_default().into(),
        version,
        size,
        storage_gb,
        backup_days,
        multi_az,
        deletion_protection: i.deletion_protection().unwrap_or(false),
        encrypted: i.storage_encrypted().unwrap_or(false),
        public: i.publicly_accessible().unwrap_or(false),
        subnet_group: i
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .unwrap_or_default()
            .into(),
        security_groups: i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        db_name: i.db_name().unwrap_or_default().into(),
        user: i.master_username().unwrap_or_default().into(),
        status: i.db_instance_status().unwrap_or_default().into(),
        endpoint,
        secret_arn: i
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .map(str::to_string),
        pending,
    }
}

/// What a service needs to connect: the endpoint and the secret holding user and password.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub host: String,
    pub port: i32,
    /// The database in the instance (a restored instance has its snapshot's).
    pub name: String,
    pub secret_arn: String,
}

impl State {
    /// Serving: RDS has made its endpoint and secret and is not creating, restoring or
    /// deleting it.
    pub fn connection(&self) -> Option<Connection> {
        let serving = !matches!(
            self.status.as_str(),
            "creating" | "deleting" | "failed" | "stopped" | "stopping" | "starting"
                | "restore-error" | "incompatible-restore" | "incompatible-network"
        );
        let (host, port) = self.endpoint.clone()?;
        Some(Connection {
            host,
            port,
            name: self.db_name.clone(),
            secret_arn: self.secret_arn.clone()?,
        }).filter(|_| serving)
    }
}

/// How long `up` waits for a new instance (multi-AZ creation takes the longest).
pub(super) const READY_DEADLINE: Duration = Duration::from_secs(60 * 60);

/// Wait until the stack's instance serves, calling `status` with RDS's status as it changes.
pub async fn wait_ready(
    aws: &Aws,
    names: &Names,
    mut status: impl FnMut(&str),
) -> Result<Connection, AwsError> {
    let start = Instant::now();
    let mut last = String::new();
    let mut asked_for_password = false;
    let waiting = |why: String| {
        AwsError::new("wait for", format!("DB instance {}", names.db_instance()), why)
    };
    loop {
        let Some((id, state)) = describe(aws, names).await? else {
            return Err(waiting("it is gone".into()));
        };
        if let Some(c) = state.connection() {
            return Ok(c);
        }
        if state.status != last {
            status(&state.status);
            last = state.status.clone();
        }
        // Restored from a snapshot, it has the snapshot's password, unmanaged (a restore
        // cannot turn management on for PostgreSQL): RDS makes and keeps a new one now.
        if state.status == "available" && state.secret_arn.is_none() && !asked_for_password {
            aws.rds
                .modify_db_instance()
                .db_instance_identifier(&id)
                .manage_master_user_password(true)
                .apply_immediately(true)
                .send()
                .await
                .ctx("modify DB instance", &id)?;
            status("available; RDS now makes a new password and keeps it in Secrets Manager");
            asked_for_password = true;
        }
        if matches!(state.status.as_str(), "stopped" | "stopping") {
            let mut e = waiting(format!("RDS reports it `{}`", state.status));
            e.hint = Some(format!(
                "start it (`aws rds start-db-instance --db-instance-identifier {id}`), then run the command again"
            ));
            return Err(e);
        }
        if matches!(
            state.status.as_str(),
            "failed" | "restore-error" | "incompatible-restore" | "incompatible-network" | "storage-full"
        ) {
            return Err(waiting(format!("RDS reports it `{}`", state.status)));
        }
        if start.elapsed() > READY_DEADLINE {
            return Err(waiting(format!(
                "still `{}` after {} minutes",
                state.status,
                READY_DEADLINE.as_secs() / 60
            )));
        }
        tokio::time::sleep(poll()).await;
    }
}

/// Until the instance no longer exists (its final snapshot is then complete).
pub(super) async fn wait_gone(aws: &Aws, names: &Names) -> Result<(), AwsError> {
    let start = Instant::now();
    while describe(aws, names).await?.is_some() {
        if start.elapsed() > READY_DEADLINE {
            return Err(AwsError::new(
                "wait for the deletion of",
                format!("DB instance {}", names.db_instance()),
                "still there after an hour",
            ));
        }
        tokio::time::sleep(poll()).await;
    }
    Ok(())
}

pub(super) fn poll() -> Duration {
    Duration::from_secs_f64(10.0 * crate::aws::retry::Backoff::scaled())
}

/// Delete the instance without a final snapshot: its data is gone for good. Only
/// `down --delete-data`, after its own confirmation, calls this.
pub async fn delete_without_snapshot(aws: &Aws, names: &Names) -> Result<(), AwsError> {
    let name = names.db_instance();
    if describe(aws, names).await?.is_none() {
        return Ok(());
    }
    aws.rds
        .delete_db_instance()
        .db_instance_identifier(&name)
        .skip_final_snapshot(true)
        .delete_automated_backups(true)
        .send()
        .await
        .ctx("delete DB instance", &name)
        .ok_if_not_found()?;
    Ok(())
}

/// The final snapshots `down` left of this stack's database, newest first: `(name, status)`.
pub async fn final_snapshots(aws: &Aws, names: &Names) -> Result<Vec<(String, String)>, AwsError> {
    let name = names.db_instance();
    let out = aws
        .rds
        .describe_db_snapshots()
        .db_instance_identifier(&name)
        .snapshot_type("manual")
        .send()
        .await
        .ctx("describe DB snapshots of", &name)
        .ok_if_not_found()?;
    let prefix = names.final_snapshot("");
    let mut found: Vec<(String, String)> = out
        .as_ref()
        .map(|o| o.db_snapshots())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| {
            let id = s.db_snapshot_identifier()?;
            id.starts_with(&prefix)
                .then(|| (id.to_string(), s.status().unwrap_or_default().to_string()))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(found)
}

/// `YYYYMMDD-HHMMSS` in UTC, for snapshot names.
pub(super) fn stamp() -> String {
    crate::clock::stamp(crate::clock::now_secs())
}

pub(super) fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// Is version `a` newer than `b` (both `major.minor`)?
pub(super) fn newer(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    parts(a) > parts(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number() {
        assert!(newer("18.10", "18.9"));
        assert!(!newer("18.3", "18.3"));
        assert_eq!(major("18.3"), "18");
    }

    #[test]
    fn snapshot_stamps_are_utc_dates() {
        let s = stamp();
        assert_eq!(s.len(), 15);
        assert!(s.starts_with("20"));
        assert_eq!(&s[8..9], "-");
    }
}
