//! The situational rules: eventual consistency, IAM propagation, DependencyViolation,
//! ALB provisioning, failing ECS deployments. Windows are long (60 s) so that nothing
//! depends on timing; each test has its own proxy.

use crate::common::{quiet, sdk, start, unique};
use crate::moto_or_skip;
use aws_config::SdkConfig;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use faultproxy::{Chance, FaultKind, Rule};
use std::time::Duration;

const ALWAYS: Rule = Rule::new(Duration::from_secs(60), Chance::Fixed(1.0));
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub async fn vpc(conf: &SdkConfig, cidr: &str) -> String {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let out = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .expect("create vpc");
    out.vpc().and_then(|v| v.vpc_id()).unwrap().to_string()
}

pub async fn subnet(conf: &SdkConfig, vpc: &str, cidr: &str, az: &str) -> String {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let out = ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .send()
        .await
        .expect("subnet");
    out.subnet()
        .and_then(|s| s.subnet_id())
        .unwrap()
        .to_string()
}

/// An internet gateway attached to `vpc` (an internet-facing load balancer needs one).
pub async fn gateway(conf: &SdkConfig, vpc: &str) -> String {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let out = ec2.create_internet_gateway().send().await.expect("igw");
    let id = out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .unwrap()
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&id)
        .vpc_id(vpc)
        .send()
        .await
        .expect("attach igw");
    id
}

/// A cluster, a task definition (container `web`) and a service with one task.
pub async fn ecs_service(conf: &SdkConfig, name: &str) -> (String, String) {
    use aws_sdk_ecs::types::ContainerDefinition;
    let ecs = aws_sdk_ecs::Client::new(conf);
    ecs.create_cluster()
        .cluster_name(name)
        .send()
        .await
        .expect("cluster");
    let td = ecs
        .register_task_definition()
        .family(name)
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("task definition");
    let td_arn = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster(name)
        .service_name(name)
        .task_definition(&td_arn)
        .desired_count(1)
        .send()
        .await
        .expect("service");
    (name.to_string(), td_arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn just_created_resources_are_missing_from_describe_by_id() {
    let moto = moto_or_skip!();
    let proxy = start(faultproxy::FaultConfig {
        consistency: ALWAYS,
        ..quiet(&moto, 11, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 3).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let id = vpc(&conf, "10.20.0.0/16").await;
    let e = ec2.describe_vpcs().vpc_ids(&id).send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidVpcID.NotFound"), "{e:?}");
    assert!(e.message().unwrap().contains(&id));
    // Not retried by the SDK: waiting for it is the caller's job.
    assert_eq!(proxy.stats().calls_to("ec2:DescribeVpcs"), 1);
    let sn = subnet(&conf, &id, "10.20.1.0/24", "us-east-1a").await;
    let e = ec2
        .describe_subnets()
        .subnet_ids(&sn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSubnetID.NotFound"));

    let iam = aws_sdk_iam::Client::new(&conf);
    let role = unique("fp-role");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("create role");
    let e = iam.get_role().role_name(&role).send().await.unwrap_err();
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_no_such_entity_exception()),
        "{e:?}"
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert_eq!(proxy.stats().faults_of(FaultKind::NotFound), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_cannot_assume_a_just_created_role() {
    let moto = moto_or_skip!();
    let proxy = start(faultproxy::FaultConfig {
        role_propagation: ALWAYS,
        ..quiet(&moto, 12, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 3).await;
    let role = unique("fp-exec");
    let created = aws_sdk_iam::Client::new(&conf)
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("create role");
    let arn = created.role().unwrap().arn().to_string();
    let e = aws_sdk_ecs::Client::new(&conf)
        .register_task_definition()
        .family(&role)
        .execution_role_arn(&arn)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_client_exception()),
        "{e:?}"
    );
    assert!(
        e.message()
            .unwrap()
            .contains("ECS was unable to assume the role"),
        "{e:?}"
    );
    assert_eq!(proxy.stats().faults_of(FaultKind::RoleNotAssumable), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_hit_dependency_violation_while_enis_drain() {
    let moto = moto_or_skip!();
    let proxy = start(faultproxy::FaultConfig {
        eni_drain: ALWAYS,
        ..quiet(&moto, 13, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 3).await;
    let v = vpc(&conf, "10.21.0.0/16").await;
    let sn = subnet(&conf, &v, "10.21.1.0/24", "us-east-1a").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    // Nothing drains yet.
    let name = unique("fp-drain");
    ecs_service(&conf, &name).await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.update_service()
        .cluster(&name)
        .service(&name)
        .desired_count(0)
        .send()
        .await
        .expect("scale to 0");
    let e = ec2.delete_subnet().subnet_id(&sn).send().await.unwrap_err();
    assert_eq!(e.code(), Some("DependencyViolation"), "{e:?}");
    let e = ec2.delete_vpc().vpc_id(&v).send().await.unwrap_err();
    assert_eq!(e.code(), Some("DependencyViolation"), "{e:?}");
    let stats = proxy.stats();
    assert_eq!(
        (
            stats.calls_to("ec2:DeleteSubnet"),
            stats.faults_of(FaultKind::EniDrain)
        ),
        (1, 2)
    );
    // The subnet is still in moto.
    let direct = aws_sdk_ec2::Client::new(&sdk(&moto, 1).await);
    assert_eq!(
        direct
            .describe_subnets()
            .subnet_ids(&sn)
            .send()
            .await
            .unwrap()
            .subnets()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_referenced_security_group_is_a_dependency_violation() {
    use aws_sdk_ec2::types::{IpPermission, UserIdGroupPair};
    let moto = moto_or_skip!();
    let proxy = start(faultproxy::FaultConfig {
        sg_references: Chance::Fixed(1.0),
        ..quiet(&moto, 14, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 3).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let v = vpc(&conf, "10.22.0.0/16").await;
    let sg = |n: &str| {
        let ec2 = ec2.clone();
        let (v, n) = (v.clone(), unique(n));
        async move {
            let out = ec2
                .create_security_group()
                .vpc_id(v)
                .group_name(n)
                .description("fp")
                .send()
                .await
                .unwrap();
            out.group_id().unwrap().to_string()
        }
    };
    let (alb_sg, task_sg) = (sg("fp-alb").await, sg("fp-task").await);
    ec2.authorize_security_group_ingress()
        .group_id(&task_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&alb_sg).build())
                .build(),
        )
        .send()
        .await
        .expect("ingress from the ALB group");
    let e = ec2
        .delete_security_group()
        .group_id(&alb_sg)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DependencyViolation"), "{e:?}");
    assert_eq!(proxy.stats().faults_of(FaultKind::SgReferenced), 1);
    ec2.delete_security_group()
        .group_id(&task_sg)
        .send()
        .await
        .expect("unreferenced group deletes");
    ec2.delete_security_group()
        .group_id(&alb_sg)
        .send()
        .await
        .expect("no longer referenced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_alb_stays_provisioning() {
    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerStateEnum;
    let moto = moto_or_skip!();
    let proxy = start(faultproxy::FaultConfig {
        alb_provisioning: ALWAYS,
        ..quiet(&moto, 15, 0.0)
    })
    .await;
    let conf = sdk(&proxy.url(), 3).await;
    let v = vpc(&conf, "10.23.0.0/16").await;
    gateway(&conf, &v).await;
    let a = subnet(&conf, &v, "10.23.1.0/24", "us-east-1a").await;
    let b = subnet(&conf, &v, "10.23.2.0/24", "us-east-1b").await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let out = elb
        .create_load_balancer()
        .name(unique("fp"))
        .subnets(a)
        .subnets(b)
        .send()
        .await
        .expect("alb");
    let arn = out.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    // moto itself flips to active on the first describe; the proxy keeps it provisioning.
    for _ in 0..3 {
        let d = elb
            .describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
            .await
            .unwrap();
        let state = d.load_balancers()[0]
            .state()
            .and_then(|s| s.code())
            .cloned();
        assert_eq!(state, Some(LoadBalancerStateEnum::Provisioning));
    }
    assert_eq!(proxy.stats().faults_of(FaultKind::AlbProvisioning), 3);
    let direct = aws_sdk_elasticloadbalancingv2::Client::new(&sdk(&moto, 1).await);
    let d = direct
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.load_balancers()[0].state().and_then(|s| s.code()),
        Some(&LoadBalancerStateEnum::Active)
    );
}
