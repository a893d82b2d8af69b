use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;
use faultproxy::{FaultConfig, Proxy, ProxyHandle, Weights};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The moto URL, or None (test skipped) when there is none and none is required.
pub fn moto() -> Option<String> {
    match std::env::var("STACKCTL_TEST_MOTO") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("STACKCTL_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!(
                "STACKCTL_TEST_MOTO is not set but STACKCTL_TEST_REQUIRE_SERVICES=1: run ./scripts/test.sh"
            )
        }
        _ => {
            eprintln!("skipped: STACKCTL_TEST_MOTO is not set (run ./scripts/test.sh)");
            None
        }
    }
}

/// `moto()` or return from the test.
#[macro_export]
macro_rules! moto_or_skip {
    () => {
        match $crate::common::moto() {
            Some(url) => url,
            None => return,
        }
    };
}

/// A config with every per-request weight zero and every situational rule off.
pub fn quiet(moto: &str, seed: u64, rate: f64) -> FaultConfig {
    let mut cfg = FaultConfig::new(moto.parse().unwrap(), seed, rate);
    cfg.weights = Weights::none();
    cfg.situational_off();
    cfg
}

pub async fn start(cfg: FaultConfig) -> ProxyHandle {
    Proxy::start(cfg).await.expect("proxy starts")
}

/// SDK config against `endpoint` with `attempts` tries and millisecond backoff.
pub async fn sdk(endpoint: &str, attempts: u32) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "faultproxy-tests",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(2))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .load()
        .await
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!("{prefix}-{nanos:x}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// VPC ids in moto tagged `fp-test=<tag>`, asked directly (not through a proxy).
pub async fn vpcs_tagged(moto: &str, tag: &str) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(&sdk(moto, 1).await);
    let out = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:fp-test")
                .values(tag)
                .build(),
        )
        .send()
        .await
        .expect("describe vpcs directly");
    out.vpcs()
        .iter()
        .filter_map(|v| v.vpc_id().map(str::to_string))
        .collect()
}

pub fn tag_spec(
    tag: &str,
    kind: aws_sdk_ec2::types::ResourceType,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(kind)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("fp-test")
                .value(tag)
                .build(),
        )
        .build()
}
