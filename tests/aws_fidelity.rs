//! What real AWS does on a first deploy that our doubles now do too (tools/faultproxy's
//! `refusals`), met by `up` and `down` end to end: a brand-new account without the ECS
//! service-linked role, and a target group of the stack's name made outside it.

mod common;

use std::time::Duration;

use common::{Project, clients, moto};
use faultproxy::Proxy;

#[tokio::test(flavor = "multi_thread")]
async fn up_in_a_fresh_account_creates_the_ecs_service_linked_role_and_waits_for_it() {
    let Some(moto) = moto() else { return };
    let mut cfg = common::faults(&moto, 71, 0.0);
    // ECS refuses CreateCluster/CreateService until the role exists and has propagated.
    cfg.fresh_account = Some(Duration::from_secs(2));
    let proxy = Proxy::start(cfg).await.unwrap();
    let p = Project::new(&moto, "");
    let run = p.run_via(&proxy.url(), &["up"]).ok();
    assert!(run.stdout.contains("Done in"), "{}", run.all());
    let stats = proxy.stats();
    assert_eq!(
        stats.calls_to("iam:CreateServiceLinkedRole"),
        1,
        "{:?}",
        stats.calls
    );
    assert!(
        stats.calls_to("ecs:CreateCluster") >= 2,
        "CreateCluster was refused, then retried: {:?}",
        stats.calls
    );
    p.run(&["down", "--yes"]).ok();
    // The account's, not the stack's: `down` leaves it.
    let roles = clients(&moto).await.iam.list_roles();
    let roles = roles
        .path_prefix("/aws-service-role/ecs.amazonaws.com/")
        .send()
        .await;
    let names: Vec<String> = roles
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().into())
        .collect();
    assert_eq!(names, ["AWSServiceRoleForECS"]);
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_group_of_the_stacks_name_made_elsewhere_is_adopted_tagged_and_deleted() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let aws = clients(&moto).await;
    p.run(&["up"]).ok();
    // The stack's group loses its tags: to the stack it is now a twin made elsewhere with the
    // same name and settings (by hand, or an older tool).
    let name = format!("{}-default-api", p.name);
    let groups = aws
        .elb
        .describe_target_groups()
        .names(&name)
        .send()
        .await
        .unwrap();
    let arn = groups.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    aws.elb
        .remove_tags()
        .resource_arns(&arn)
        .set_tag_keys(Some(
            [
                "stackctl:stack",
                "stackctl:env",
                "stackctl:resource",
                "managed-by",
            ]
            .map(String::from)
            .to_vec(),
        ))
        .send()
        .await
        .unwrap();
    // `up` does not see it and creates it; AWS answers with the existing group and applies
    // none of the tags given, so `up` must tag it itself.
    let run = p.run(&["up"]).ok();
    assert!(run.stdout.contains("+ target group"), "{}", run.stdout);
    let tags = aws
        .elb
        .describe_tags()
        .resource_arns(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tag_descriptions()[0]
        .tags()
        .iter()
        .filter_map(|t| t.key())
        .collect();
    assert!(
        keys.contains(&"stackctl:stack"),
        "adopted but untagged: {keys:?}"
    );
    let again = p.run(&["plan"]).ok();
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    p.run(&["down", "--yes"]).ok();
    let left = aws.elb.describe_target_groups().names(&name).send().await;
    assert!(
        left.map(|o| o.target_groups().is_empty()).unwrap_or(true),
        "`down` deletes the adopted group"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pinned_zones_are_used_and_a_zone_the_region_lacks_or_a_local_zone_is_named() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let original = std::fs::read_to_string(p.stack_file()).unwrap();
    let pin = |zones: &str| {
        let yaml = original.replace(
            "network: { cidr: 10.42.0.0/16, azs: 2 }",
            &format!("network: {{ cidr: 10.42.0.0/16, zones: [{zones}] }}"),
        );
        std::fs::write(p.stack_file(), yaml).unwrap();
    };
    pin("us-east-1c, us-east-1z");
    let bad = p.run(&["plan"]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stderr
            .contains("place subnets in zone us-east-1z: the region has no such zone"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("usable zones here: us-east-1a"),
        "{}",
        bad.stderr
    );
    // The account's Local Zone (listed by the double as by AWS): Fargate runs no task there.
    pin("us-east-1-bos-1a, us-east-1b");
    let local = p.run(&["plan"]);
    assert_eq!(local.code, 1, "{}", local.all());
    assert!(
        local.stderr.contains(
            "zone us-east-1-bos-1a: it is a Local or Wavelength Zone, or needs an opt-in"
        ),
        "{}",
        local.stderr
    );
    assert!(
        !local.stderr.contains("usable zones here: us-east-1-bos-1a"),
        "{}",
        local.stderr
    );
    pin("us-east-1c, us-east-1d");
    let plan = p.run(&["plan", "-o", "json"]).ok();
    let azs: Vec<&str> = plan
        .stdout
        .match_indices("\"az\": \"")
        .map(|(i, m)| &plan.stdout[i + m.len()..i + m.len() + 10])
        .collect();
    assert_eq!(azs, ["us-east-1c", "us-east-1d"], "{}", plan.stdout);
}
