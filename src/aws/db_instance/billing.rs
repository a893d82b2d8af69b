//! What the database instance is billed for: its class's hours, its gp3 storage, both twice
//! for Multi-AZ (a standby of the same size), and the RDS-managed secret holding its password.
//! Automated backups up to the size of the storage are free ("Amazon RDS for PostgreSQL
//! pricing": backup storage up to 100 % of the provisioned storage at no charge), so they
//! are not counted for the retention stackctl allows (up to 35 days of daily snapshots,
//! incremental).

use crate::cost::{Assumptions, Meter, Usage, fmt_num};

pub fn usage(
    class: &str,
    storage_gb: i32,
    multi_az: bool,
    secret: bool,
    a: &Assumptions,
) -> Vec<Usage> {
    let copies = if multi_az { 2.0 } else { 1.0 };
    let az = if multi_az { " × 2 (Multi-AZ)" } else { "" };
    let mut out = vec![
        Usage {
            class: Some(class.into()),
            ..Usage::new(
                Meter::DbInstanceHours,
                copies * a.hours,
                format!("{class} × {} h{az}", fmt_num(a.hours)),
            )
        },
        Usage::new(
            Meter::DbStorageGbMonths,
            copies * f64::from(storage_gb),
            format!("{storage_gb} GB gp3{az}"),
        ),
    ];
    if secret {
        out.push(Usage::new(
            Meter::SecretMonths,
            1.0,
            "its password's secret (RDS-managed)",
        ));
    }
    out
}
