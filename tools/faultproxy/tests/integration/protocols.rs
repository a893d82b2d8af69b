//! What the current SDK crates send, as the proxy sees it, and that each parses the proxy's
//! throttling error of its protocol.

use crate::common::{quiet, sdk, start};
use crate::moto_or_skip;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use faultproxy::{FaultConfig, Weights};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stackctl_service_is_classified_and_parses_injected_throttling() {
    let moto = moto_or_skip!();
    let proxy = start(FaultConfig {
        weights: Weights {
            throttle: 1,
            ..Weights::none()
        },
        ..quiet(&moto, 21, 1.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 2).await;
    let codes = [
        aws_sdk_ec2::Client::new(&conf)
            .describe_vpcs()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_iam::Client::new(&conf)
            .list_roles()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_elasticloadbalancingv2::Client::new(&conf)
            .describe_target_groups()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_ecs::Client::new(&conf)
            .list_clusters()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_ecr::Client::new(&conf)
            .describe_repositories()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_ssm::Client::new(&conf)
            .get_parameter()
            .name("x")
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
        aws_sdk_cloudwatchlogs::Client::new(&conf)
            .describe_log_groups()
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_string),
    ];
    let codes: Vec<_> = codes.iter().map(|c| c.as_deref().unwrap_or("-")).collect();
    assert_eq!(
        codes,
        [
            "RequestLimitExceeded",
            "Throttling",
            "Throttling",
            "Throttling",
            "ThrottlingException",
            "ThrottlingException",
            "ThrottlingException",
            "ThrottlingException"
        ]
    );
    let stats = proxy.stats();
    let seen: Vec<(&str, &str)> = stats
        .protocols
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("ec2", "ec2Query"),
            ("ecr", "awsJson1_1"),
            ("ecs", "awsJson1_1"),
            ("elasticloadbalancing", "awsQuery"),
            ("iam", "awsQuery"),
            ("logs", "awsJson1_1"),
            ("ssm", "awsJson1_1"),
            ("sts", "awsQuery"),
        ]
    );
    // Each was retried (2 attempts): the SDK classified every one as retryable.
    assert!(stats.calls.values().all(|n| *n == 2), "{stats:?}");
}
