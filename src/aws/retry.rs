//! Waiting on AWS's eventual behaviour (network interfaces draining, IAM propagation):
//! bounded retries with exponential backoff and jitter, then a clear failure.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;

use super::AwsError;
use super::Outcome;

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub deadline: Duration,
}

impl Backoff {
    /// Deleting network things while ENIs of deleted load balancers and tasks drain: minutes.
    pub const DRAIN: Backoff = Backoff {
        first: Duration::from_secs(2),
        max: Duration::from_secs(20),
        deadline: Duration::from_secs(20 * 60),
    };
    /// The Resource Groups Tagging API catching up with deletions: a minute or two.
    pub const TAGGING: Backoff = Backoff {
        first: Duration::from_secs(2),
        max: Duration::from_secs(15),
        deadline: Duration::from_secs(120),
    };
    /// IAM changes reaching other services: seconds.
    pub const PROPAGATION: Backoff = Backoff {
        first: Duration::from_millis(500),
        max: Duration::from_secs(5),
        deadline: Duration::from_secs(90),
    };

    pub fn scaled() -> f64 {
        // Lets tests against an emulator with injected faults go faster; never 0.
        std::env::var("STACKCTL_BACKOFF_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(1.0)
    }
}

/// Run `op` until it succeeds, fails with an error `retryable` rejects, or the deadline passes.
pub async fn retry<T, F, Fut>(
    backoff: Backoff,
    retryable: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let scale = Backoff::scaled();
    let start = Instant::now();
    let mut wait = backoff.first.mul_f64(scale);
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) && start.elapsed() + wait < backoff.deadline.mul_f64(scale) => {
                let jitter = rand::rng().random_range(0.5..1.0);
                tokio::time::sleep(wait.mul_f64(jitter)).await;
                wait = (wait * 2).min(backoff.max.mul_f64(scale));
            }
            Err(mut e) => {
                if retryable(&e) {
                    e.message = format!(
                        "{} (still failing after {}s of retries)",
                        e.message,
                        start.elapsed().as_secs()
                    );
                }
                return Err(e);
            }
        }
    }
}

/// Delete something that may still be in use while AWS drains its network interfaces:
/// retries `DependencyViolation`, and "not found" counts as deleted (`down` runs twice).
pub async fn delete_draining<T, F, Fut>(op: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry(Backoff::DRAIN, AwsError::is_dependency_violation, op)
        .await
        .ok_if_not_found()?;
    Ok(())
}
