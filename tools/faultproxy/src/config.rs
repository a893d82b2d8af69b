//! What to inject, how often and for how long. Every window and delay is short by default
//! (seconds) so that a seeded test campaign stays fast.

use std::time::Duration;
use url::Url;

/// How likely a situational rule fires when its trigger happens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Chance {
    /// Follow [`FaultConfig::rate`], so that `rate: 0.0` is a pure pass-through.
    Rate,
    /// A fixed probability in `0..=1` (`Fixed(1.0)`: always, `Fixed(0.0)`: never).
    Fixed(f64),
}

impl Chance {
    pub fn resolve(self, rate: f64) -> f64 {
        match self {
            Chance::Rate => rate,
            Chance::Fixed(p) => p,
        }
        .clamp(0.0, 1.0)
    }
}

/// A situational rule: when its trigger happens it fires with `chance`, for `window`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    pub window: Duration,
    pub chance: Chance,
}

impl Rule {
    pub const fn new(window: Duration, chance: Chance) -> Self {
        Rule { window, chance }
    }
    pub const fn off() -> Self {
        Rule {
            window: Duration::ZERO,
            chance: Chance::Fixed(0.0),
        }
    }
}

/// Relative weights of the per-request faults drawn at `rate`. Zero disables a kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// The protocol's own throttling error (EC2 `RequestLimitExceeded` 503, query `Throttling`
    /// 400, JSON/CBOR `ThrottlingException` 400).
    pub throttle: u32,
    /// HTTP 429 with a throttling code.
    pub too_many_requests: u32,
    /// HTTP 503 `ServiceUnavailable`.
    pub unavailable: u32,
    /// HTTP 500 `InternalError` (or the service's own name for it).
    pub internal_error: u32,
    /// The connection is dropped (RST) before the request is forwarded.
    pub connection_reset: u32,
    /// The response is delayed by a duration in [`FaultConfig::slow`].
    pub slow: u32,
    /// The request is forwarded (and commits), then the connection is dropped: the client
    /// never sees the response. What idempotency tokens are for.
    pub response_lost: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            throttle: 4,
            too_many_requests: 1,
            unavailable: 1,
            internal_error: 2,
            connection_reset: 1,
            slow: 1,
            response_lost: 1,
        }
    }
}

impl Weights {
    pub fn none() -> Self {
        Weights {
            throttle: 0,
            too_many_requests: 0,
            unavailable: 0,
            internal_error: 0,
            connection_reset: 0,
            slow: 0,
            response_lost: 0,
        }
    }
    pub fn throttle_only() -> Self {
        Weights {
            throttle: 3,
            too_many_requests: 1,
            unavailable: 1,
            ..Weights::none()
        }
    }
}

/// Failing ECS deployments: DescribeServices shows the primary deployment `FAILED` and
/// ListTasks/DescribeTasks show stopped tasks with `reason`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployFailure {
    /// Drawn on each CreateService/UpdateService. Off by default: a failed deployment is not
    /// something a retry fixes. Use [`crate::ProxyHandle::fail_deployments`] to force one.
    pub chance: Chance,
    pub reason: String,
    /// How many stopped tasks to synthesize per failed deployment.
    pub stopped_tasks: usize,
}

impl Default for DeployFailure {
    fn default() -> Self {
        DeployFailure {
            chance: Chance::Fixed(0.0),
            reason: "Essential container in task exited".into(),
            stopped_tasks: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Where requests go (moto), e.g. `http://127.0.0.1:5055`.
    pub upstream: Url,
    pub seed: u64,
    /// Probability in `0..=1` that a request gets one of the [`Weights`] faults.
    pub rate: f64,
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub weights: Weights,
    /// Delay range of a `slow` fault.
    pub slow: (Duration, Duration),
    /// A just-created VPC, subnet, security group, IGW, route table, IAM role, ALB, target
    /// group, ECR repository or SSM parameter is missing from a Describe/Get by id.
    pub consistency: Rule,
    /// A just-created IAM role that ECS cannot assume yet.
    pub role_propagation: Rule,
    /// `DependencyViolation` on deleting SGs, subnets, the IGW and the VPC after
    /// DeleteLoadBalancer / DeleteService / UpdateService(desiredCount=0): ENIs draining.
    pub eni_drain: Rule,
    /// `DependencyViolation` on DeleteSecurityGroup while another group's rule references it
    /// (moto deletes it anyway). Checked against the upstream before forwarding.
    pub sg_references: Chance,
    /// DescribeLoadBalancers shows `provisioning` for `window` after CreateLoadBalancer.
    pub alb_provisioning: Rule,
    pub deploy_failure: DeployFailure,
    /// ECS data plane emulation (see `ecs.rs`): deployments that roll out, UpdateService
    /// starting new ones, DeleteService draining, duplicate creates refused, target groups
    /// getting the service's tasks. Not a fault: on by default, at any rate and profile.
    pub ecs_emulation: bool,
    /// How long an emulated ECS deployment takes: tasks start during the first half, are
    /// healthy in the second, the deployment is COMPLETED after all of it.
    pub ecs_rollout: Duration,
    /// How long a minute of a deployment strategy's bake times lasts in the emulation
    /// (`bakeTimeInMinutes`, canary and linear waits): real minutes by default, shorter in
    /// tests so that a 1-minute bake need not take one.
    pub ecs_minute: Duration,
    /// A brand-new account: ECS has no service-linked role until the client creates one, and
    /// it is usable this long after (see `refusals`). `None`: an account that has it.
    pub fresh_account: Option<Duration>,
    /// Keep every request (action and parameters) for [`crate::ProxyHandle::journal`]: what a
    /// test checks against the IAM policy. Off by default (it grows with every call).
    pub journal: bool,
}

/// Named presets for the binary and for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Every fault kind; the AWS behaviours that always happen (ALB provisioning, ENI drain,
    /// referenced SGs) happen always, the rest at `rate`.
    Realistic,
    /// Only throttling (400/429/503 throttling codes); no situational rules.
    ThrottleOnly,
    /// Throttling, 5xx, resets and slow responses; nothing that commits and loses the reply.
    Transient,
    /// Only the situational rules (consistency, roles, drain, SG refs, ALB), all always.
    Consistency,
    /// Nothing at all.
    Passthrough,
}

impl Profile {
    pub const NAMES: &'static [&'static str] = &[
        "realistic",
        "throttle-only",
        "transient",
        "consistency",
        "passthrough",
    ];

    pub fn parse(s: &str) -> Option<Profile> {
        Some(match s {
            "realistic" => Profile::Realistic,
            "throttle-only" => Profile::ThrottleOnly,
            "transient" => Profile::Transient,
            "consistency" => Profile::Consistency,
            "passthrough" => Profile::Passthrough,
            _ => return None,
        })
    }
}

const SECOND: Duration = Duration::from_secs(1);

impl FaultConfig {
    /// Every kind at `rate`, default windows. `rate: 0.0` forwards everything untouched.
    pub fn new(upstream: Url, seed: u64, rate: f64) -> Self {
        FaultConfig {
            upstream,
            seed,
            rate,
            port: 0,
            weights: Weights::default(),
            slow: (Duration::from_millis(100), Duration::from_millis(800)),
            consistency: Rule::new(2 * SECOND, Chance::Rate),
            role_propagation: Rule::new(3 * SECOND, Chance::Rate),
            eni_drain: Rule::new(3 * SECOND, Chance::Rate),
            sg_references: Chance::Rate,
            alb_provisioning: Rule::new(3 * SECOND, Chance::Rate),
            deploy_failure: DeployFailure::default(),
            ecs_emulation: true,
            ecs_rollout: 2 * SECOND,
            ecs_minute: 60 * SECOND,
            fresh_account: None,
            journal: false,
        }
    }

    pub fn with_profile(mut self, profile: Profile) -> Self {
        let always = Chance::Fixed(1.0);
        match profile {
            Profile::Realistic => {
                self.alb_provisioning.chance = always;
                self.eni_drain.chance = always;
                self.sg_references = always;
            }
            Profile::ThrottleOnly | Profile::Transient => {
                self.weights = if profile == Profile::ThrottleOnly {
                    Weights::throttle_only()
                } else {
                    Weights {
                        response_lost: 0,
                        ..Weights::default()
                    }
                };
                self.situational_off();
            }
            Profile::Consistency => {
                self.weights = Weights::none();
                for rule in [
                    &mut self.consistency,
                    &mut self.role_propagation,
                    &mut self.eni_drain,
                    &mut self.alb_provisioning,
                ] {
                    rule.chance = always;
                }
                self.sg_references = always;
            }
            Profile::Passthrough => {
                self.rate = 0.0;
                self.weights = Weights::none();
                self.situational_off();
            }
        }
        self
    }

    /// Turns off every situational rule (keeps the per-request weights).
    pub fn situational_off(&mut self) {
        self.consistency = Rule::off();
        self.role_propagation = Rule::off();
        self.eni_drain = Rule::off();
        self.alb_provisioning = Rule::off();
        self.sg_references = Chance::Fixed(0.0);
        self.deploy_failure.chance = Chance::Fixed(0.0);
    }
}
