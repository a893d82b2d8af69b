//! What the proxy saw and what it injected.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    Throttle,
    TooManyRequests,
    Unavailable,
    InternalError,
    ConnectionReset,
    Slow,
    ResponseLost,
    /// Eventual consistency: a just-created resource missing from a Describe/Get.
    NotFound,
    /// A just-created IAM role that ECS cannot assume yet.
    RoleNotAssumable,
    /// `DependencyViolation` while network interfaces drain.
    EniDrain,
    /// `DependencyViolation` on a security group referenced by another group's rule.
    SgReferenced,
    /// DescribeLoadBalancers rewritten to `provisioning`.
    AlbProvisioning,
    /// DescribeServices/ListTasks/DescribeTasks rewritten to show a failed deployment.
    DeploymentFailed,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::TooManyRequests => "too_many_requests",
            FaultKind::Unavailable => "unavailable",
            FaultKind::InternalError => "internal_error",
            FaultKind::ConnectionReset => "connection_reset",
            FaultKind::Slow => "slow",
            FaultKind::ResponseLost => "response_lost",
            FaultKind::NotFound => "not_found",
            FaultKind::RoleNotAssumable => "role_not_assumable",
            FaultKind::EniDrain => "eni_drain",
            FaultKind::SgReferenced => "sg_referenced",
            FaultKind::AlbProvisioning => "alb_provisioning",
            FaultKind::DeploymentFailed => "deployment_failed",
        }
    }
    /// Whether the request never reached the upstream because of this fault.
    pub fn blocks_upstream(self) -> bool {
        !matches!(
            self,
            FaultKind::Slow
                | FaultKind::ResponseLost
                | FaultKind::AlbProvisioning
                | FaultKind::DeploymentFailed
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    /// Arrival order of the request at the proxy (1-based).
    pub seq: u64,
    /// `service:Action`.
    pub key: String,
    /// Which call of that action it was (1-based): the fault sequence is keyed on it.
    pub n: u64,
    pub kind: FaultKind,
    /// The error code returned, or what was done.
    pub detail: String,
}

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests seen per `service:Action`.
    pub calls: BTreeMap<String, u64>,
    /// Faults injected per kind.
    pub faults: BTreeMap<FaultKind, u64>,
    pub total_calls: u64,
    pub total_faults: u64,
    /// Wire protocol seen per service (`ec2Query`, `awsQuery`, `awsJson1_1`, `rpcv2Cbor`...).
    pub protocols: BTreeMap<String, String>,
}

impl Stats {
    pub fn calls_to(&self, key: &str) -> u64 {
        self.calls.get(key).copied().unwrap_or(0)
    }
    pub fn faults_of(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub stats: Stats,
    pub log: Vec<FaultRecord>,
    /// Every request, when `FaultConfig::journal` is on.
    pub journal: Vec<crate::classify::Call>,
}

impl Recorder {
    /// Counts a request (and keeps it, with `journal`); returns (seq, n).
    pub fn call(&mut self, call: &crate::classify::Call, journal: bool) -> (u64, u64) {
        if journal {
            self.journal.push(call.clone());
        }
        self.stats.total_calls += 1;
        self.stats
            .protocols
            .insert(call.service.clone(), call.protocol.to_string());
        let n = self.stats.calls.entry(call.key()).or_default();
        *n += 1;
        (self.stats.total_calls, *n)
    }
    pub fn fault(&mut self, rec: FaultRecord) {
        self.stats.total_faults += 1;
        *self.stats.faults.entry(rec.kind).or_default() += 1;
        self.log.push(rec);
    }
}
