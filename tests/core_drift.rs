//! Drift: what is changed by hand in the account, the next `up` puts back.

mod common;

use common::census::owner;
use common::{Project, clients, moto};

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_repaired_by_the_next_up() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    let aws = clients(&moto).await;
    let n = &p.name;
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
        .unwrap();
    let alb_id = alb.group_id().unwrap();
    let https = alb
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(443))
        .unwrap()
        .clone();
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(alb_id)
        .ip_permissions(https)
        .send()
        .await
        .unwrap();
    let vpc_id = aws
        .ec2
        .describe_vpcs()
        .set_filters(Some(owner(n)))
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder()
        .value(false)
        .build();
    aws.ec2
        .modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(off)
        .send()
        .await
        .unwrap();
    aws.logs
        .delete_log_group()
        .log_group_name(format!("/stackctl/{n}/default/api"))
        .send()
        .await
        .unwrap();
    let exec = format!("{n}-default-exec");
    aws.iam
        .detach_role_policy()
        .role_name(&exec)
        .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
        .send()
        .await
        .unwrap();

    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    for expected in [
        "allow tcp/443 from 0.0.0.0/0",
        "allow tcp/443 from ::/0",
        "enable DNS hostnames",
        "+ log group",
        "attach arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "plan lacks `{expected}`:\n{}",
            plan.stdout
        );
    }
    p.run(&["up"]).ok();
    let again = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "converged after repair:\n{}", again.all());
}
