//! The core reconcilers against moto: create from empty, converge with zero writes,
//! plan. Drift repair is in core_drift.rs, deleting everything in core_down.rs.

mod common;

use aws_sdk_ec2::types::VpcAttributeName;
use common::census::owner;
use common::{Project, clients, moto};
use faultproxy::{FaultConfig, Proxy};

#[tokio::test(flavor = "multi_thread")]
async fn up_from_empty_creates_every_resource_with_the_right_properties() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let run = p.run(&["up"]).ok();
    let (_, writes) = run.calls();
    assert!(writes > 0);
    let aws = clients(&moto).await;
    let n = &p.name;

    let vpcs = aws
        .ec2
        .describe_vpcs()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let vpc = &vpcs.vpcs()[0];
    let vpc_id = vpc.vpc_id().unwrap();
    assert_eq!(vpc.cidr_block(), Some("10.42.0.0/16"));
    let dns = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        dns.enable_dns_hostnames().and_then(|v| v.value()),
        Some(true)
    );

    let subnets = aws
        .ec2
        .describe_subnets()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap();
    let mut azs: Vec<_> = subnets
        .subnets()
        .iter()
        .map(|s| s.availability_zone().unwrap().to_string())
        .collect();
    azs.sort();
    azs.dedup();
    assert_eq!(azs.len(), 2, "two distinct AZs");
    assert!(
        subnets
            .subnets()
            .iter()
            .all(|s| s.map_public_ip_on_launch() == Some(true) && s.vpc_id() == Some(vpc_id))
    );
    let mut cidrs: Vec<_> = subnets
        .subnets()
        .iter()
        .map(|s| s.cidr_block().unwrap())
        .collect();
    cidrs.sort();
    assert_eq!(cidrs, ["10.42.0.0/20", "10.42.16.0/20"]);

    let igws = aws
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let igw = &igws.internet_gateways()[0];
    assert_eq!(igw.attachments()[0].vpc_id(), Some(vpc_id));

    let rtbs = aws
        .ec2
        .describe_route_tables()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap();
    let rtb = &rtbs.route_tables()[0];
    assert!(
        rtb.routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.gateway_id() == igw.internet_gateway_id())
    );
    assert_eq!(
        rtb.associations()
            .iter()
            .filter(|a| a.subnet_id().is_some())
            .count(),
        2
    );

    let sgs = aws
        .ec2
        .describe_security_groups()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap();
    let alb = sgs
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some(&format!("{n}-default-alb")))
        .expect("ALB group");
    for port in [80, 443] {
        let perm = alb
            .ip_permissions()
            .iter()
            .find(|p| p.from_port() == Some(port))
            .expect("web port open");
        assert!(
            perm.ip_ranges()
                .iter()
                .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
        );
        assert!(
            perm.ipv6_ranges()
                .iter()
                .any(|r| r.cidr_ipv6() == Some("::/0"))
        );
    }
    let svc = sgs
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some(&format!("{n}-default-svc-api")))
        .expect("service group");
    assert_eq!(svc.ip_permissions().len(), 1);
    let perm = &svc.ip_permissions()[0];
    assert_eq!((perm.from_port(), perm.to_port()), (Some(8080), Some(8080)));
    assert_eq!(
        perm.user_id_group_pairs()[0].group_id(),
        alb.group_id(),
        "service port only from the ALB group"
    );
    assert!(perm.ip_ranges().is_empty());

    let repo_name = format!("{n}-default/api");
    let repos = aws
        .ecr
        .describe_repositories()
        .repository_names(&repo_name)
        .send()
        .await
        .unwrap();
    let repo = &repos.repositories()[0];
    assert!(repo.image_scanning_configuration().unwrap().scan_on_push());
    assert_eq!(
        repo.encryption_configuration()
            .unwrap()
            .encryption_type()
            .as_str(),
        "AES256"
    );
    let lifecycle = aws
        .ecr
        .get_lifecycle_policy()
        .repository_name(&repo_name)
        .send()
        .await
        .unwrap();
    assert!(
        lifecycle
            .lifecycle_policy_text()
            .unwrap()
            .contains("imageCountMoreThan")
    );

    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/stackctl/{n}/default/"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));

    let exec = format!("{n}-default-exec");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&exec)
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .attached_policies()
            .iter()
            .any(|p| p.policy_name() == Some("AmazonECSTaskExecutionRolePolicy"))
    );
    let inline = aws
        .iam
        .get_role_policy()
        .role_name(&exec)
        .policy_name("read-own-parameters")
        .send()
        .await
        .unwrap();
    let doc = inline
        .policy_document()
        .replace("%2F", "/")
        .replace("%3A", ":")
        .replace("%2A", "*");
    assert!(
        doc.contains(&format!("parameter/stackctl/{n}/default/*")),
        "{doc}"
    );
    aws.iam
        .get_role()
        .role_name(format!("{n}-default-api-task"))
        .send()
        .await
        .expect("task role");

    let param = aws
        .ssm
        .get_parameter()
        .name(format!("/stackctl/{n}/default/api/token/1"))
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let param = param.parameter().unwrap();
    assert_eq!(param.r#type().map(|t| t.as_str()), Some("SecureString"));
    let token = param.value().unwrap();
    assert_eq!(token.len(), 43, "32 random bytes, URL-safe base64");
    assert!(!run.all().contains(token), "the token is never printed");

    let lbs = aws
        .elb
        .describe_load_balancers()
        .names(format!("{n}-default"))
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    assert_eq!(lb.availability_zones().len(), 2);
    assert_eq!(lb.security_groups(), [alb.group_id().unwrap()]);
    let tgs = aws
        .elb
        .describe_target_groups()
        .names(format!("{n}-default-api"))
        .send()
        .await
        .unwrap();
    let tg = &tgs.target_groups()[0];
    assert_eq!(tg.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(
        (tg.port(), tg.health_check_path()),
        (Some(8080), Some("/status"))
    );
    let thresholds = (
        tg.health_check_interval_seconds(),
        tg.healthy_threshold_count(),
        tg.unhealthy_threshold_count(),
    );
    assert_eq!(thresholds, (Some(5), Some(2), Some(2)));
    let tg_arn = tg.target_group_arn().unwrap();
    let attrs = aws
        .elb
        .describe_target_group_attributes()
        .target_group_arn(tg_arn)
        .send()
        .await
        .unwrap();
    let delay = attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"));
    assert_eq!(delay.and_then(|a| a.value()), Some("5"));
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let listener = &listeners.listeners()[0];
    assert_eq!(listener.port(), Some(80));
    assert_eq!(
        listener.default_actions()[0].target_group_arn(),
        Some(tg_arn)
    );

    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters(format!("{n}-default"))
        .send()
        .await
        .unwrap();
    let cluster = &clusters.clusters()[0];
    assert_eq!(cluster.status(), Some("ACTIVE"));
    assert_eq!(cluster.capacity_providers(), ["FARGATE", "FARGATE_SPOT"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn converged_up_makes_zero_mutating_calls() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    // Counted twice: by stackctl's own SDK interceptor, and by a proxy on the wire (a plain
    // counting one, in front of the shared ECS emulation that knows the service).
    let mut cfg = FaultConfig::new(moto.parse().unwrap(), 0, 0.0);
    cfg.ecs_emulation = false;
    let proxy = Proxy::start(cfg).await.unwrap();
    let run = p.run_via(&proxy.url(), &["up"]).ok();
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    let (reads, writes) = run.calls();
    assert_eq!(writes, 0, "{}", run.all());
    // 36 for the stack's own resources (a stack looks for the kinds it lacks too, so `up` and
    // `down` see one left behind), one ListRoles for the service-linked roles, a GetRole per
    // role (boundaries are not in ListRoles), and the CI kinds' three lists (CI roles, OIDC
    // providers, CI policies: looked for without `ci:` too, so removing it removes them).
    assert!(reads <= 42, "{reads} reads");
    let wire = proxy.stats();
    let mutating: Vec<_> = wire
        .calls
        .iter()
        .filter(|(k, _)| {
            let action = k.rsplit(':').next().unwrap();
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| action.starts_with(p))
        })
        .collect();
    assert!(
        mutating.is_empty(),
        "mutating calls on the wire: {mutating:?}"
    );
    assert_eq!(
        wire.total_calls as usize, reads,
        "the wire saw what the interceptor counted: {:?}",
        wire.calls
    );
    eprintln!("converged up: {reads} reads, 0 writes");
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_reports_changes_with_exit_codes_and_json() {
    let Some(moto) = moto() else { return };
    // The count below is for an account that has ECS's service-linked role already (whether
    // an earlier test made it depends on the order the tests run in).
    common::account_used_ecs(&moto).await;
    let p = Project::new(&moto, "");
    let before = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(before.code, 2, "{}", before.all());
    assert!(
        before
            .stdout
            .contains("Plan: 18 to add, 0 to change, 0 to destroy"),
        "{}",
        before.stdout
    );
    assert_eq!(
        p.run(&["plan"]).code,
        0,
        "without the flag, pending changes are not an error"
    );
    let json: serde_json::Value =
        serde_json::from_str(&p.run(&["plan", "--output", "json"]).ok().stdout).unwrap();
    assert_eq!(json["summary"]["add"], 18);
    p.run(&["up"]).ok();
    let after = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(after.code, 0, "{}", after.all());
    assert!(after.stdout.contains("No changes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn build_push_before_any_up_names_the_missing_repository() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let r = p.run(&["build", "--push"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains(&format!(
            "ECR repository {}-default/api does not exist",
            p.name
        )) && r.stderr.contains("run `stackctl up` once"),
        "{}",
        r.all()
    );
}
