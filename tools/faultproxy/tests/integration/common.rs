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

/// A VPC `10.<octet>.0.0/16` with a subnet in each of two zones: (VPC, subnets).
pub async fn network(conf: &aws_config::SdkConfig, octet: u8) -> (String, Vec<String>) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{octet}.0.0/16"))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].into_iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{octet}.{i}.0/24"))
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    (vpc, subnets)
}

/// An `ip` target group `name` on port 80 in `vpc`.
pub async fn target_group(conf: &aws_config::SdkConfig, name: &str, vpc: &str) -> String {
    use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let tg = elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id(vpc)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

/// An internal load balancer `name` in `subnets` (an internet-facing one needs an internet
/// gateway on the VPC).
pub async fn load_balancer(
    conf: &aws_config::SdkConfig,
    name: &str,
    subnets: Vec<String>,
) -> String {
    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let lb = elb
        .create_load_balancer()
        .name(name)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();
    lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}
