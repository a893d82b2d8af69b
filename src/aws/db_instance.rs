//! The stack's PostgreSQL: one RDS instance in the private subnets, encrypted, never public,
//! with automated backups and its master password made and kept by RDS in Secrets Manager
//! (ManageMasterUserPassword: stackctl never sees it). `down` keeps a final snapshot.

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, DB_CREATE, DB_INSTANCE, DB_SECRETS, DB_SNAPSHOTS, Permission, Scope};
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::cost;
use crate::plan::{self, Ids, Key, Kind, Observed, desired};

/// An RDS for PostgreSQL instance.
pub struct DbInstance;

pub const ENGINE: &str = "postgres";
pub const PORT: i32 = 5432;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    /// `18` (RDS picks the minor and keeps it current) or `18.3`.
    pub version: String,
    pub size: String,
    pub storage_gb: i32,
    pub backup_days: i32,
    pub multi_az: bool,
    pub deletion_protection: bool,
    pub db_name: String,
    pub user: String,
    pub subnet_group: Key,
    pub security_group: Key,
    /// Restore from this snapshot when creating.
    pub snapshot: Option<String>,
    /// In-place changes apply at once, else in the maintenance window.
    pub apply_now: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub engine: String,
    pub version: String,
    pub size: String,
    pub storage_gb: i32,
    pub backup_days: i32,
    pub multi_az: bool,
    pub deletion_protection: bool,
    pub encrypted: bool,
    pub public: bool,
    pub subnet_group: String,
    pub security_groups: Vec<String>,
    pub db_name: String,
    pub user: String,
    pub status: String,
    /// Address and port, once RDS has made them.
    pub endpoint: Option<(String, i32)>,
    /// The RDS-managed secret holding `username` and `password`.
    pub secret_arn: Option<String>,
    /// Changes RDS has accepted for the maintenance window (the fields above include them).
    pub pending: Vec<String>,
}

impl Resource for DbInstance {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("rds:DescribeDBInstances", Scope::Arns("TheStacksDatabase", DB_INSTANCE), &[Up, RotateToken, Status, Down, Check]),
            // CreateDBInstance and the restore also authorize the subnet group, the
            // parameter and option groups and (restore) the snapshot they use.
            ("rds:CreateDBInstance", Scope::Arns("CreatingTheStacksDatabase", DB_CREATE), &[Up]),
            ("rds:RestoreDBInstanceFromDBSnapshot", Scope::Arns("CreatingTheStacksDatabase", DB_CREATE), &[Up]),
            ("rds:ModifyDBInstance", Scope::Arns("CreatingTheStacksDatabase", DB_CREATE), &[Up]),
            ("rds:DeleteDBInstance", Scope::Arns("DeletingTheStacksDatabase", DB_SNAPSHOTS), &[Down]),
            ("rds:CreateDBSnapshot", Scope::Arns("DeletingTheStacksDatabase", DB_SNAPSHOTS), &[Down]),
            ("rds:DescribeDBSnapshots", Scope::Arns("DeletingTheStacksDatabase", DB_SNAPSHOTS), &[Up, Down]),
            // ManageMasterUserPassword: RDS makes the secret with the caller's permissions
            // (RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager").
            ("secretsmanager:CreateSecret", Scope::Arns("TheDatabasesSecret", DB_SECRETS), &[Up]),
            ("secretsmanager:TagResource", Scope::Arns("TheDatabasesSecret", DB_SECRETS), &[Up]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        vec![spec.subnet_group.clone(), spec.security_group.clone()]
    }

    /// Its subnet group and security group cannot go while it exists.
    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(
            other,
            Kind::DbSubnetGroup | Kind::SecurityGroup | Kind::Subnet | Kind::Vpc
        )
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let keep = "a new instance means a new, empty database: run `stackctl down` (it keeps a final snapshot), then `up` with `database.snapshot:` set to it";
        if have.engine != ENGINE {
            return Err(format!(
                "the instance runs {}, stack.yaml wants PostgreSQL; {keep}",
                have.engine
            ));
        }
        if !have.encrypted {
            return Err(format!(
                "the instance's storage is not encrypted and cannot be encrypted in place; {keep}"
            ));
        }
        if ids.get(&want.subnet_group).is_some_and(|g| !g.eq_ignore_ascii_case(&have.subnet_group)) {
            return Err(format!(
                "the instance is in subnet group {}, not the stack's; {keep}",
                have.subnet_group
            ));
        }
        if major(&want.version) != major(&have.version) {
            return Err(format!(
                "the instance runs PostgreSQL {}, stack.yaml asks for {}; stackctl does not make major upgrades: keep `version: \"{}\"`, or upgrade it yourself (RDS User Guide, \"Upgrading the PostgreSQL DB engine\") after a snapshot",
                have.version,
                want.version,
                major(&have.version)
            ));
        }
        if want.db_name != have.db_name || !want.user.eq_ignore_ascii_case(&have.user) {
            return Err(format!(
                "the instance's database is `{}` with user `{}`, stack.yaml says `{}` and `{}`; RDS cannot rename them: write the instance's names in stack.yaml",
                have.db_name, have.user, want.db_name, want.user
            ));
        }
        if want.storage_gb < have.storage_gb {
            return Err(format!(
                "storage is {} GiB, stack.yaml asks for {}; RDS storage can grow, never shrink: write `storage_gb: {}`",
                have.storage_gb, want.storage_gb, have.storage_gb
            ));
        }
        // RDS grows storage by at least 10 % at a time, rounding a smaller step up (RDS User
        // Guide, "Scaling up DB instance storage"), which would leave more than stack.yaml says.
        let least = have.storage_gb + (have.storage_gb + 9) / 10;
        if want.storage_gb > have.storage_gb && want.storage_gb < least {
            return Err(format!(
                "storage is {} GiB, stack.yaml asks for {}; RDS grows storage by at least 10 % at a time: write `storage_gb: {least}` or more",
                have.storage_gb, want.storage_gb
            ));
        }
        let mut changes = Vec::new();
        if want.version.contains('.') && want.version != have.version {
            if newer(&have.version, &want.version) {
                return Err(format!(
                    "the instance runs PostgreSQL {}, newer than {} in stack.yaml; minor versions cannot go back: write `version: \"{}\"`",
                    have.version, want.version, have.version
                ));
            }
            changes.push(Change::Version {
                from: have.version.clone(),
                to: want.version.clone(),
            });
        }
        if want.size != have.size {
            changes.push(Change::Size {
                from: have.size.clone(),
                to: want.size.clone(),
            });
        }
        if want.storage_gb != have.storage_gb {
            changes.push(Change::Storage {
                from: have.storage_gb,
                to: want.storage_gb,
            });
        }
        if want.backup_days != have.backup_days {
            changes.push(Change::Backups {
                from: have.backup_days,
                to: want.backup_days,
            });
        }
        if want.multi_az != have.multi_az {
            changes.push(Change::MultiAz { to: want.multi_az });
        }
        if want.deletion_protection != have.deletion_protection {
            changes.push(Change::DeletionProtection {
                to: want.deletion_protection,
            });
        }
        if have.public {
            changes.push(Change::NotPublic);
        }
        let group = ids.get(&want.security_group);
        if group.is_none_or(|g| have.security_groups != [g.clone()]) {
            changes.push(Change::SecurityGroup);
        }
        let mut fixes = Vec::new();
        if have.secret_arn.is_none() {
            fixes.push(Fix::ManagePassword);
        }
        if !changes.is_empty() {
            fixes.push(Fix::Modify {
                changes,
                now: want.apply_now,
            });
        }
        Ok(fixes)
    }

    fn summary(have: &State) -> String {
        let mut s = format!(
            "PostgreSQL {} on {}, {} GiB, {}",
            have.version, have.size, have.storage_gb, have.status
        );
        if !have.pending.is_empty() {
            s.push_str(&format!(
                "; in the maintenance window: {}",
                have.pending.join(", ")
            ));
        }
        s
    }

    fn usage(_: &Key, s: &Spec, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        billing::usage(&s.size, s.storage_gb, s.multi_az, true, &i.assumptions)
    }

    fn usage_now(_: &Key, h: &State, i: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        let secret = h.secret_arn.is_some();
        billing::usage(&h.size, h.storage_gb, h.multi_az, secret, &i.assumptions)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "engine": ENGINE,
            "port": PORT,
            "storage_type": "gp3",
            "storage_encrypted": true,
            "publicly_accessible": false,
            "manage_master_user_password": true,
            "copy_tags_to_snapshot": false,
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        change::converged(spec, id)
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        Ok(describe(aws, names)
            .await?
            .into_iter()
            .map(|(id, state)| Observed {
                key: desired::db_instance(),
                name: id.clone(),
                id,
                state: plan::State::DbInstance(state),
            })
            .collect())
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let group = cx.id(&spec.security_group)?;
        let subnets = cx.id(&spec.subnet_group)?;
        let tags = super::tags(cx.names, &key.0, name)?;
        let rds = &cx.aws.rds;
        let sent = match &spec.snapshot {
            Some(snapshot) => rds
                .restore_db_instance_from_db_snapshot()
                .db_instance_identifier(name)
                .db_snapshot_identifier(snapshot)
                .db_instance_class(&spec.size)
                .db_subnet_group_name(&subnets)
                .vpc_security_group_ids(&group)
                .publicly_accessible(false)
                .multi_az(spec.multi_az)
                .deletion_protection(spec.deletion_protection)
                // No ManageMasterUserPassword: on a restore it applies to Oracle only (RDS
                // API Reference); `wait_ready` turns it on once the instance serves.
                .auto_minor_version_upgrade(!spec.version.contains('.'))
                .copy_tags_to_snapshot(false)
                .set_tags(Some(tags))
                .send()
                .await
                .ctx("restore DB instance", format!("{name} from snapshot {snapshot}"))
                .map(drop),
            None => rds
                .create_db_instance()
                .db_instance_identifier(name)
                .engine(ENGINE)
                .engine_version(&spec.version)
                .auto_minor_version_upgrade(!spec.version.contains('.'))
                .db_instance_class(&spec.size)
                .allocated_storage(spec.storage_gb)
                .storage_type("gp3")
                .storage_encrypted(true)
                .db_name(&spec.db_name)
                .master_username(&spec.user)
                .manage_master_user_password(true)
                .db_subnet_group_name(&subnets)
                .vpc_security_group_ids(&group)
                .publicly_accessible(false)
                .port(PORT)
                .backup_retention_period(spec.backup_days)
                .multi_az(spec.multi_az)
                .deletion_protection(spec.deletion_protection)
                .copy_tags_to_snapshot(false)
                .set_tags(Some(tags))
                .send()
                .await
                .ctx("create DB instance", name)
                .map(drop),
        };
        match sent {
            // Made by our own attempt whose reply was lost: observed and fixed by the next
            // `up`. One that is not the stack's is never taken over.
            Err(e) if e.is_already_exists() => {
                if describe(cx.aws, cx.names).await?.is_none() {
                    return Err(not_ours(name));
                }
            }
            other => other?,
        }
        Ok(name.to_string())
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        let req = cx.aws.rds.modify_db_instance().db_instance_identifier(&have.id);
        let req = match fix {
            Fix::ManagePassword => req.manage_master_user_password(true).apply_immediately(true),
            Fix::Modify { changes, now } => {
                let mut req = req.apply_immediately(*now);
                for c in changes {
                    req = match c {
                        Change::Size { to, .. } => req.db_instance_class(to),
                        Change::Storage { to, .. } => req.allocated_storage(*to),
                        Change::Backups { to, .. } => req.backup_retention_period(*to),
                        Change::MultiAz { to } => req.multi_az(*to),
                        Change::DeletionProtection { to } => req.deletion_protection(*to),
                        Change::Version { to, .. } => req.engine_version(to),
                        Change::NotPublic => req.publicly_accessible(false),
                        Change::SecurityGroup => {
                            req.vpc_security_group_ids(cx.id(&desired::db_sg())?)
                        }
                    };
                }
                req
            }
        };
        req.send().await.ctx("modify DB instance", &have.id)?;
        Ok(())
    }

    /// Always with a final snapshot (`down --delete-data` removes the instance without one
    /// before this runs); waits until the instance is gone, so its groups can go next.
    async fn delete(cx: &Cx<'_>, have: &Observed, state: &State) -> Result<(), AwsError> {
        if state.status != "deleting" {
            let snapshot = cx.names.final_snapshot(&stamp());
            cx.aws
                .rds
                .delete_db_instance()
                .db_instance_identifier(&have.id)
                .final_db_snapshot_identifier(&snapshot)
                .delete_automated_backups(false)
                .send()
                .await
                .ctx("delete DB instance", &have.id)
                .ok_if_not_found()?;
        }
        wait_gone(cx.aws, cx.names).await
    }
}


mod billing;
mod change;
mod lifecycle;
pub use change::{Change, Fix};
pub use lifecycle::{Connection, delete_without_snapshot, describe, final_snapshots, wait_ready};
use lifecycle::{major, newer, not_ours, stamp, wait_gone};
