//! What a stack costs a month. Pure: each resource kind says what it is billed for
//! (`Resource::usage`, in [`Usage`]s of a [`Meter`]), this module prices that with the table
//! in [`prices`] and says what it assumed. Nothing here calls AWS.

pub mod estimate;
pub mod prices;

use serde::{Deserialize, Serialize};

pub use estimate::{Estimate, Line, compare};
pub use prices::{Prices, RegionPrices, Table};

/// A month of an always-on resource, as AWS's pricing pages count it.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// What AWS bills by, one price each in a region's row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Meter {
    /// Application Load Balancer, per hour it exists.
    AlbHours,
    /// Load balancer capacity units, per LCU-hour.
    AlbLcuHours,
    /// Fargate (Linux, x86), per vCPU-hour.
    FargateVcpuHours,
    /// Fargate (Linux, x86), per GB of memory per hour.
    FargateGbHours,
    /// A public IPv4 address, per hour (any address: tasks', load balancer nodes').
    PublicIpv4Hours,
    /// CloudWatch Logs, per GB ingested.
    LogsIngestedGb,
    /// CloudWatch Logs, per GB stored per month.
    LogsStoredGbMonths,
    /// ECR, per GB of images stored per month.
    EcrGbMonths,
    /// RDS for PostgreSQL, per instance-hour of the class in [`Usage::class`] (Single-AZ).
    DbInstanceHours,
    /// RDS gp3 storage, per GB-month (Single-AZ).
    DbStorageGbMonths,
    /// A Secrets Manager secret, per month.
    SecretMonths,
    /// A Route 53 hosted zone (Cloud Map's private zone), per month.
    HostedZoneMonths,
    /// A CloudWatch alarm (standard resolution), per month.
    AlarmMonths,
}

impl Meter {
    pub const ALL: &'static [Meter] = &[
        Meter::AlbHours,
        Meter::AlbLcuHours,
        Meter::FargateVcpuHours,
        Meter::FargateGbHours,
        Meter::PublicIpv4Hours,
        Meter::LogsIngestedGb,
        Meter::LogsStoredGbMonths,
        Meter::EcrGbMonths,
        Meter::DbInstanceHours,
        Meter::DbStorageGbMonths,
        Meter::SecretMonths,
        Meter::HostedZoneMonths,
        Meter::AlarmMonths,
    ];

    /// What it is, for a person.
    pub fn label(self) -> &'static str {
        match self {
            Meter::AlbHours => "load balancer hours",
            Meter::AlbLcuHours => "load balancer capacity units",
            Meter::FargateVcpuHours => "Fargate vCPU",
            Meter::FargateGbHours => "Fargate memory",
            Meter::PublicIpv4Hours => "public IPv4 addresses",
            Meter::LogsIngestedGb => "CloudWatch Logs ingestion",
            Meter::LogsStoredGbMonths => "CloudWatch Logs storage",
            Meter::EcrGbMonths => "ECR storage",
            Meter::DbInstanceHours => "RDS instance hours",
            Meter::DbStorageGbMonths => "RDS storage",
            Meter::SecretMonths => "Secrets Manager secrets",
            Meter::HostedZoneMonths => "Route 53 hosted zones",
            Meter::AlarmMonths => "CloudWatch alarms",
        }
    }

    /// The unit a quantity of it is counted in.
    pub fn unit(self) -> &'static str {
        match self {
            Meter::AlbHours | Meter::DbInstanceHours => "hours",
            Meter::AlbLcuHours => "LCU-hours",
            Meter::FargateVcpuHours => "vCPU-hours",
            Meter::FargateGbHours => "GB-hours",
            Meter::PublicIpv4Hours => "address-hours",
            Meter::LogsIngestedGb => "GB",
            Meter::LogsStoredGbMonths | Meter::EcrGbMonths | Meter::DbStorageGbMonths => {
                "GB-months"
            }
            Meter::SecretMonths | Meter::HostedZoneMonths | Meter::AlarmMonths => "months",
        }
    }
}

/// A quantity of one meter a resource uses in a month, and what it is, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    pub meter: Meter,
    /// The instance class for [`Meter::DbInstanceHours`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub quantity: f64,
    /// How the quantity was reached (`2 tasks × 0.25 vCPU × 730 h`).
    pub what: String,
}

impl Usage {
    pub fn new(meter: Meter, quantity: f64, what: impl Into<String>) -> Usage {
        Usage {
            meter,
            class: None,
            quantity,
            what: what.into(),
        }
    }
}

/// What the estimate cannot know and so assumes; `stackctl cost` takes each as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assumptions {
    /// Hours a month everything runs.
    pub hours: f64,
    /// Load balancer capacity units used on average (1 LCU: 25 new connections a second,
    /// 3,000 active a minute, or 1 GB processed an hour, whichever is highest).
    pub lcu: f64,
    /// Logs each service writes a month, in GB.
    pub log_gb: f64,
    /// Size of one image in ECR, in MB (stackctl's images of the example apps: 8 to 10 MB).
    pub image_mb: f64,
}

impl Default for Assumptions {
    fn default() -> Assumptions {
        Assumptions {
            hours: HOURS_PER_MONTH,
            lcu: 1.0,
            log_gb: 1.0,
            image_mb: 10.0,
        }
    }
}

impl Assumptions {
    /// The assumptions in words, for the estimate's footnote.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!("everything runs {} hours a month", fmt_num(self.hours)),
            format!(
                "{} LCU on average for the load balancer (1 LCU: about 25 new connections a second or 1 GB an hour)",
                fmt_num(self.lcu)
            ),
            format!("{} GB of logs per service a month", fmt_num(self.log_gb)),
            format!("images of {} MB", fmt_num(self.image_mb)),
            "data transfer out not counted (the first 100 GB a month are free)".into(),
        ]
    }
}

/// What a resource kind's `usage` is given besides its own spec or state.
pub struct Inputs<'a> {
    pub assumptions: Assumptions,
    /// A task definition's (vCPU units, MiB), by the key of its resource or its ARN.
    pub task_size: &'a dyn Fn(&str) -> Option<(u32, u32)>,
    /// The task count an autoscaled service runs now, by its key: `up` leaves it as it is.
    pub running: &'a dyn Fn(&str) -> Option<i32>,
}

/// A number without trailing zeros (`0.25`, `730`).
pub fn fmt_num(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
