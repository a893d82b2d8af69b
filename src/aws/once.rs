//! Creates that AWS does not make idempotent (EC2 VPCs, subnets, gateways, groups; route
//! tables take a ClientToken, which not every endpoint honours). When a reply is lost the
//! request may have committed, and a blind retry makes a second resource (or fails with
//! "already exists" / "conflict"). So these run with the SDK's retries off, and before each
//! retry we look for what the lost attempt may have made, by its tags.

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use rand::Rng;

use super::retry::Backoff;
use super::{AwsError, Ctx};
use crate::plan::{Key, Observed};

pub const ATTEMPTS: u32 = 8;

/// Per-operation EC2 config: no SDK retries (this module retries, looking first).
pub fn ec2_no_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// Per-operation ELB config: no SDK retries. AWS makes CreateLoadBalancer and
/// CreateListener idempotent for identical settings, but an emulator may not: looking before
/// retrying is correct everywhere.
pub fn elb_no_retry() -> aws_sdk_elasticloadbalancingv2::config::Builder {
    aws_sdk_elasticloadbalancingv2::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// One attempt of [`create`]: `req` sent with `config` (one of the above: SDK retries off).
macro_rules! attempt {
    ($req:expr, $config:expr) => {
        || $req.clone().customize().config_override($config).send()
    };
}
pub(crate) use attempt;

/// Worth retrying: throttled, a server error, or no reply at all (which may have committed).
pub fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            status >= 500
                || status == 429
                || super::error::THROTTLING.contains(&s.err().code().unwrap_or(""))
        }
        _ => false,
    }
}

/// Create the resource of `key` at most once: `attempt` sends the create (SDK retries off),
/// `id_of` reads the new id from its reply, `find` observes the resources of its kind.
pub async fn create<O, E, F, Fut, G, GFut>(
    op: &'static str,
    target: &str,
    key: &Key,
    mut attempt: F,
    id_of: impl Fn(&O) -> Option<String>,
    mut find: G,
) -> Result<String, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    G: FnMut() -> GFut,
    GFut: Future<Output = Result<Vec<Observed>, AwsError>>,
{
    let scale = Backoff::scaled();
    let mut wait = Duration::from_millis(200);
    for n in 1..=ATTEMPTS {
        let e = match attempt().await {
            Ok(out) => {
                return id_of(&out).ok_or_else(|| AwsError::new(op, target, "no id in response"));
            }
            Err(e) => e,
        };
        let transient = is_transient(&e);
        let mut err = Err::<(), _>(e).ctx(op, target).unwrap_err();
        // "Already exists" or "conflicts": maybe with what our own lost attempt made.
        let collided = err.is_already_exists();
        if !transient && !collided {
            return Err(err);
        }
        if transient {
            // Waiting first also gives a just-made resource time to show in a Describe.
            let jitter = rand::rng().random_range(0.5..1.0);
            tokio::time::sleep(wait.mul_f64(scale * jitter)).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        if let Some(found) = find().await?.into_iter().find(|o| &o.key == key) {
            return Ok(found.id);
        }
        if !transient || n == ATTEMPTS {
            if transient {
                err.message = format!("{} (gave up after {n} attempts)", err.message);
            }
            return Err(err);
        }
    }
    unreachable!("the last attempt returns")
}

/// A client token for one logical create, the same across its retries.
pub fn client_token() -> String {
    super::ssm::generate_token()[..32].to_string()
}
