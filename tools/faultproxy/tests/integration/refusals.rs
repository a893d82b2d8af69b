//! What real AWS refuses and moto accepts, refused by the proxy at rate 0 (it is the
//! services' behaviour, not a fault): names, an internet-facing load balancer without an
//! internet gateway or in too small subnets, target groups created twice, and a fresh
//! account's missing ECS service-linked role.

use crate::common::{quiet, sdk, start, unique};
use crate::moto_or_skip;
use crate::situational::{gateway, subnet, vpc};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, Tag};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_aws_refuses_are_refused() {
    let moto = moto_or_skip!();
    let proxy = start(quiet(&moto, 61, 0.0)).await;
    let conf = sdk(&proxy.url(), 1).await;
    let v = vpc(&conf, "10.61.0.0/16").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let e = ec2
        .create_security_group()
        .group_name("sg-web")
        .description("x")
        .vpc_id(&v)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    ec2.create_security_group()
        .group_name("web-sg")
        .description("x")
        .vpc_id(&v)
        .send()
        .await
        .expect("an ordinary name");
    gateway(&conf, &v).await;
    let a = subnet(&conf, &v, "10.61.1.0/24", "us-east-1a").await;
    let b = subnet(&conf, &v, "10.61.2.0/24", "us-east-1b").await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    for name in ["internal-web", "web-", &"w".repeat(33)] {
        let e = elb
            .create_load_balancer()
            .name(name)
            .subnets(&a)
            .subnets(&b)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("ValidationError"), "{name}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internet_facing_alb_needs_a_gateway_and_big_enough_subnets() {
    let moto = moto_or_skip!();
    let proxy = start(quiet(&moto, 62, 0.0)).await;
    let conf = sdk(&proxy.url(), 1).await;
    let v = vpc(&conf, "10.62.0.0/16").await;
    let small = subnet(&conf, &v, "10.62.0.0/28", "us-east-1a").await;
    let a = subnet(&conf, &v, "10.62.1.0/24", "us-east-1a").await;
    let b = subnet(&conf, &v, "10.62.2.0/24", "us-east-1b").await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let create = |subnets: [&String; 2]| {
        elb.create_load_balancer()
            .name(unique("fp"))
            .subnets(subnets[0])
            .subnets(subnets[1])
            .send()
    };
    let e = create([&a, &b]).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidSubnet"), "{e:?}");
    assert_eq!(
        e.message(),
        Some(format!("VPC {v} has no internet gateway").as_str())
    );
    // Internal load balancers need no gateway.
    elb.create_load_balancer()
        .name(unique("fp"))
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .subnets(&a)
        .subnets(&b)
        .send()
        .await
        .expect("internal");
    gateway(&conf, &v).await;
    let e = create([&small, &b]).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidSubnet"), "{e:?}");
    assert!(
        e.message().unwrap().contains("8 free IP addresses"),
        "{e:?}"
    );
    create([&a, &b])
        .await
        .expect("with a gateway and /24 subnets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_target_group_again_returns_it_without_the_new_tags() {
    let moto = moto_or_skip!();
    let proxy = start(quiet(&moto, 63, 0.0)).await;
    let conf = sdk(&proxy.url(), 1).await;
    let v = vpc(&conf, "10.63.0.0/16").await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let name = unique("fp");
    let create = |port: i32, tag: &str| {
        elb.create_target_group()
            .name(&name)
            .protocol(ProtocolEnum::Http)
            .port(port)
            .vpc_id(&v)
            .tags(Tag::builder().key("made-by").value(tag).build())
            .send()
    };
    let first = create(80, "first").await.unwrap();
    let arn = first.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let again = create(80, "second").await.expect("same settings: success");
    assert_eq!(
        again.target_groups()[0].target_group_arn(),
        Some(arn.as_str())
    );
    let tags = elb
        .describe_tags()
        .resource_arns(&arn)
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = tags.tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(
        tags,
        [("made-by", "first")],
        "the second call's tags are not applied"
    );
    let e = create(81, "third").await.unwrap_err();
    assert_eq!(e.code(), Some("DuplicateTargetGroupName"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_account_has_no_ecs_service_linked_role_until_one_is_created() {
    let moto = moto_or_skip!();
    let delay = Duration::from_millis(1500);
    let proxy = start(faultproxy::FaultConfig {
        fresh_account: Some(delay),
        ..quiet(&moto, 64, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 1).await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let name = unique("fp-fresh");
    let create = || ecs.create_cluster().cluster_name(&name).send();
    let e = create().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    assert!(
        e.message()
            .unwrap()
            .contains("Unable to assume the service linked role"),
        "{e:?}"
    );
    // Created (moto may know it from another test: the proxy answers as AWS does then).
    let made = iam
        .create_service_linked_role()
        .aws_service_name("ecs.amazonaws.com")
        .send()
        .await;
    if let Err(e) = &made {
        assert!(
            e.message().unwrap_or_default().contains("has been taken"),
            "{e:?}"
        );
    }
    // Not usable at once.
    assert_eq!(
        create().await.unwrap_err().code(),
        Some("InvalidParameterException")
    );
    let again = iam
        .create_service_linked_role()
        .aws_service_name("ecs.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("InvalidInput"), "{again:?}");
    assert!(
        again.message().unwrap().contains("has been taken"),
        "{again:?}"
    );
    tokio::time::sleep(delay + Duration::from_millis(200)).await;
    create().await.expect("the role has propagated");
}
