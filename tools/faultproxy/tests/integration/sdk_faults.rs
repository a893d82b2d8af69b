//! Each per-request fault as the SDK sees it.

use crate::common::{quiet, sdk, start, tag_spec, unique, vpcs_tagged};
use crate::moto_or_skip;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::ResourceType;
use faultproxy::{FaultConfig, FaultKind, Profile, Weights};
use std::time::Duration;

fn status<E>(err: &SdkError<E, aws_sdk_ec2::config::http::HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

fn only(moto: &str, weights: Weights) -> FaultConfig {
    FaultConfig {
        weights,
        ..quiet(moto, 7, 1.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_and_eventually_succeeds() {
    let moto = moto_or_skip!();
    let proxy =
        start(FaultConfig::new(moto.parse().unwrap(), 42, 0.5).with_profile(Profile::ThrottleOnly))
            .await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&proxy.url(), 10).await);
    let tag = unique("throttle");
    for _ in 0..6 {
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.1.0.0/16")
            .tag_specifications(tag_spec(&tag, ResourceType::Vpc))
            .send()
            .await
            .expect("create succeeds after retries");
        let id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
        let found = ec2
            .describe_vpcs()
            .vpc_ids(&id)
            .send()
            .await
            .expect("describe succeeds after retries");
        assert_eq!(found.vpcs().len(), 1);
    }
    let stats = proxy.stats();
    let throttles = [
        FaultKind::Throttle,
        FaultKind::TooManyRequests,
        FaultKind::Unavailable,
    ]
    .iter()
    .map(|k| stats.faults_of(*k))
    .sum::<u64>();
    assert!(throttles > 0, "{stats:?}");
    assert_eq!(stats.total_faults, throttles);
    assert_eq!(
        stats.calls_to("ec2:CreateVpc") + stats.calls_to("ec2:DescribeVpcs"),
        12 + throttles
    );
    // Throttled creates never reached moto: exactly one VPC per successful call.
    assert_eq!(vpcs_tagged(&moto, &tag).await.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_protocol_gets_its_own_throttling_error_and_the_sdk_retries_it() {
    let moto = moto_or_skip!();
    let proxy = start(only(
        &moto,
        Weights {
            throttle: 1,
            ..Weights::none()
        },
    ))
    .await;
    let conf = sdk(&proxy.url(), 3).await;

    let e = aws_sdk_ec2::Client::new(&conf)
        .describe_vpcs()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), status(&e)),
        (Some("RequestLimitExceeded"), Some(503)),
        "{e:?}"
    );
    let e = aws_sdk_iam::Client::new(&conf)
        .list_roles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), status(&e)),
        (Some("Throttling"), Some(400)),
        "{e:?}"
    );
    let e = aws_sdk_ecs::Client::new(&conf)
        .list_clusters()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), status(&e)),
        (Some("ThrottlingException"), Some(400)),
        "{e:?}"
    );
    assert_eq!(e.message(), Some("Rate exceeded"));
    let e = aws_sdk_elasticloadbalancingv2::Client::new(&conf)
        .describe_load_balancers()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), status(&e)),
        (Some("Throttling"), Some(400)),
        "{e:?}"
    );

    // Classified as retryable: every call was tried 3 times.
    let stats = proxy.stats();
    for key in [
        "ec2:DescribeVpcs",
        "iam:ListRoles",
        "ecs:ListClusters",
        "elasticloadbalancing:DescribeLoadBalancers",
    ] {
        assert_eq!(stats.calls_to(key), 3, "{key}: {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_and_5xx_are_typed_and_retried() {
    let moto = moto_or_skip!();
    let conf_for = |w| only(&moto, w);
    let cases = [
        (
            Weights {
                too_many_requests: 1,
                ..Weights::none()
            },
            "TooManyRequestsException",
            429,
            "RequestLimitExceeded",
            429,
        ),
        (
            Weights {
                internal_error: 1,
                ..Weights::none()
            },
            "ServerException",
            500,
            "InternalError",
            500,
        ),
        (
            Weights {
                unavailable: 1,
                ..Weights::none()
            },
            "ServiceUnavailableException",
            503,
            "Unavailable",
            503,
        ),
    ];
    for (weights, ecs_code, ecs_status, ec2_code, ec2_status) in cases {
        let proxy = start(conf_for(weights)).await;
        let conf = sdk(&proxy.url(), 2).await;
        let e = aws_sdk_ecs::Client::new(&conf)
            .list_clusters()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), status(&e)),
            (Some(ecs_code), Some(ecs_status)),
            "{e:?}"
        );
        let e = aws_sdk_ec2::Client::new(&conf)
            .describe_vpcs()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), status(&e)),
            (Some(ec2_code), Some(ec2_status)),
            "{e:?}"
        );
        let stats = proxy.stats();
        assert_eq!(
            (
                stats.calls_to("ecs:ListClusters"),
                stats.calls_to("ec2:DescribeVpcs")
            ),
            (2, 2),
            "{stats:?}"
        );
        proxy.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_is_an_io_error_retried_and_never_commits() {
    let moto = moto_or_skip!();
    let proxy = start(only(
        &moto,
        Weights {
            connection_reset: 1,
            ..Weights::none()
        },
    ))
    .await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&proxy.url(), 3).await);
    let tag = unique("reset");
    let e = ec2
        .create_vpc()
        .cidr_block("10.2.0.0/16")
        .tag_specifications(tag_spec(&tag, ResourceType::Vpc))
        .send()
        .await
        .unwrap_err();
    let SdkError::DispatchFailure(dispatch) = &e else {
        panic!("dispatch failure expected: {e:?}")
    };
    assert!(dispatch.is_io() || dispatch.is_other(), "{dispatch:?}");
    assert_eq!(proxy.stats().calls_to("ec2:CreateVpc"), 3);
    assert_eq!(vpcs_tagged(&moto, &tag).await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_lost_after_commit_duplicates_a_retried_create() {
    let moto = moto_or_skip!();
    let proxy = start(only(
        &moto,
        Weights {
            response_lost: 1,
            ..Weights::none()
        },
    ))
    .await;
    let tag = unique("lost");
    for attempts in [1, 2] {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(&proxy.url(), attempts).await);
        let e = ec2
            .create_vpc()
            .cidr_block("10.3.0.0/16")
            .tag_specifications(tag_spec(&tag, ResourceType::Vpc))
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, SdkError::DispatchFailure(_)), "{e:?}");
    }
    // 1 + 2 attempts, each committed in moto though the client saw only errors: what
    // idempotency tokens and find-before-create are for.
    assert_eq!(vpcs_tagged(&moto, &tag).await.len(), 3);
    assert_eq!(proxy.stats().faults_of(FaultKind::ResponseLost), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_response_still_arrives() {
    let moto = moto_or_skip!();
    let mut cfg = only(
        &moto,
        Weights {
            slow: 1,
            ..Weights::none()
        },
    );
    cfg.slow = (Duration::from_millis(5), Duration::from_millis(30));
    let proxy = start(cfg).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&proxy.url(), 1).await);
    ec2.describe_vpcs().send().await.expect("slow but fine");
    assert_eq!(proxy.stats().faults_of(FaultKind::Slow), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutating_call_failed_by_injection_never_reaches_moto() {
    let moto = moto_or_skip!();
    let weights = Weights {
        response_lost: 0,
        slow: 0,
        ..Weights::default()
    };
    let proxy = start(only(&moto, weights)).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&proxy.url(), 4).await);
    let tag = unique("nodup");
    for _ in 0..3 {
        let r = ec2
            .create_vpc()
            .cidr_block("10.4.0.0/16")
            .tag_specifications(tag_spec(&tag, ResourceType::Vpc))
            .send()
            .await;
        assert!(r.is_err());
        let r = ec2
            .create_security_group()
            .group_name(&tag)
            .description("x")
            .send()
            .await;
        assert!(r.is_err());
    }
    assert_eq!(vpcs_tagged(&moto, &tag).await.len(), 0);
    let direct = aws_sdk_ec2::Client::new(&sdk(&moto, 1).await);
    let groups = direct
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(&tag)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(groups.security_groups().is_empty());
    let faults = proxy.faults();
    assert_eq!(faults.len(), 24);
    assert!(
        faults.iter().all(|f| f.kind.blocks_upstream()),
        "{faults:?}"
    );
}
