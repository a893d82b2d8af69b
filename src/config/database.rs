//! Checks on `database:`: RDS for PostgreSQL's limits on versions, sizes, storage, backups and
//! names (RDS API Reference, CreateDBInstance), and the services it names.

use std::collections::BTreeMap;

use marked_yaml::Spanned;

use super::error::{Issues, did_you_mean};
use super::file::{DatabaseFile, ServiceFile};
use super::model::Database;

pub const DEFAULT_SIZE: &str = "db.t4g.micro";
/// gp3 storage for RDS for PostgreSQL: 20 to 65,536 GiB.
pub const STORAGE_GB: std::ops::RangeInclusive<u32> = 20..=65536;
/// Automated backups: 1 to 35 days (0 would turn them off, which stackctl does not offer).
pub const BACKUP_DAYS: std::ops::RangeInclusive<u32> = 1..=35;
/// Majors RDS for PostgreSQL can create today (older ones are past standard support).
pub const MAJORS: &[&str] = &["14", "15", "16", "17", "18"];
/// Words RDS refuses as a PostgreSQL database or master user name.
const RESERVED: &[&str] = &[
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser",
    "template0",
    "template1",
    "public",
    "user",
    "select",
    "table",
    "all",
];

pub(super) fn database(
    d: &DatabaseFile,
    services: &BTreeMap<String, ServiceFile>,
    issues: &mut Issues,
) -> Option<Database> {
    let before = issues.list.len();
    let version = d.version.trim().to_string();
    let major = version.split('.').next().unwrap_or_default();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = version.split('.').count() <= 2 && version.split('.').all(digits);
    if !well_formed || !MAJORS.contains(&major) {
        issues.at(
            d.version.span(),
            format!("`{version}` is not a PostgreSQL version RDS creates"),
            Some(format!(
                "write a major version RDS offers ({}), quoted, e.g. `version: \"18\"`",
                MAJORS.join(", ")
            )),
        );
    }
    let size = d
        .size
        .as_ref()
        .map_or(DEFAULT_SIZE.to_string(), |s| s.to_string());
    if let Some(s) = &d.size {
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 3 || parts[0] != "db" || parts[1].is_empty() || parts[2].is_empty() {
            issues.at(
                s.span(),
                format!("`{}` is not an RDS instance class", **s),
                Some(format!(
                    "instance classes look like `{DEFAULT_SIZE}` or `db.m7g.large`"
                )),
            );
        }
    }
    let storage_gb = number(
        &d.storage_gb,
        20,
        STORAGE_GB,
        "storage_gb",
        "GiB of gp3 storage",
        issues,
    );
    let backup_days = number(
        &d.backup_days,
        7,
        BACKUP_DAYS,
        "backup_days",
        "days of automated backups",
        issues,
    );
    let name = identifier(&d.name, "app", "database name", issues);
    let user = identifier(&d.user, "app", "user name", issues);
    if d.services.is_empty() {
        issues.at(
            d.version.span(),
            "`database:` lists no `services`",
            Some("name the services that use it, e.g. `services: [api]`".into()),
        );
    }
    let mut listed = Vec::new();
    for s in &d.services {
        if !services.contains_key(s.as_str()) {
            let hint = did_you_mean(s, services.keys().map(String::as_str)).unwrap_or_else(|| {
                format!(
                    "services in this file: {}",
                    services.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            issues.at(
                s.span(),
                format!("`database.services` names unknown service `{}`", **s),
                Some(hint),
            );
        } else if listed.iter().any(|l| l == &**s) {
            issues.at(s.span(), format!("service `{}` is listed twice", **s), None);
        } else {
            listed.push(s.to_string());
        }
    }
    let snapshot = d.snapshot.as_ref().map(|s| s.to_string());
    if let Some(s) = &d.snapshot
        && !is_rds_identifier(s)
    {
        issues.at(
            s.span(),
            format!("`{}` is not a DB snapshot name", **s),
            Some("snapshot names are letters, digits and single `-`, starting with a letter, e.g. the name `stackctl down` printed".into()),
        );
    }
    let apply_now = match d.apply.as_ref().map(|a| a.as_str()) {
        None | Some("now") => true,
        Some("maintenance-window") => false,
        Some(other) => {
            let span = d.apply.as_ref().expect("matched").span();
            issues.at(
                span,
                format!("`apply: {other}` is not a choice"),
                Some("write `apply: now` or `apply: maintenance-window`".into()),
            );
            true
        }
    };
    if issues.list.len() > before {
        return None;
    }
    Some(Database {
        version,
        size,
        storage_gb,
        backup_days,
        multi_az: d.multi_az,
        deletion_protection: d.deletion_protection,
        services: listed,
        name,
        user,
        snapshot,
        apply_now,
    })
}

fn number(
    v: &Option<Spanned<u32>>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    key: &str,
    what: &str,
    issues: &mut Issues,
) -> u32 {
    let Some(n) = v else { return default };
    if !range.contains(n) {
        issues.at(
            n.span(),
            format!(
                "{key} is {}; RDS allows {} to {} {what}",
                **n,
                range.start(),
                range.end()
            ),
            None,
        );
    }
    **n
}

/// A PostgreSQL database or master user name RDS accepts: a letter, then letters, digits
/// and `_`, at most 63, not a reserved word.
fn identifier(
    v: &Option<Spanned<String>>,
    default: &str,
    what: &str,
    issues: &mut Issues,
) -> String {
    let Some(s) = v else { return default.into() };
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if !ok {
        issues.at(
            s.span(),
            format!("`{}` is not a valid {what}", **s),
            Some("use a letter, then letters, digits or `_`, at most 63 characters".into()),
        );
    } else if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        issues.at(
            s.span(),
            format!("`{}` is a name RDS reserves", **s),
            Some(format!("choose another {what}, e.g. `app`")),
        );
    }
    s.to_string()
}

/// RDS identifiers (instances, snapshots): a letter, then letters, digits and single
/// hyphens, at most 255 characters (63 for instances; checked with the derived names).
pub fn is_rds_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}
