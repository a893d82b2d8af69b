//! What a stack owns in the emulator, counted per kind through a clean connection, so tests
//! can check "exactly one VPC" (no duplicates) and "nothing left" independently of stackctl.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use aws_sdk_ssm::types::ParameterStringFilter;

use super::clients;

pub type Census = BTreeMap<&'static str, usize>;

/// What one `up` of [`super::Project::new`]'s stack (one public service with a token) owns.
pub fn expected() -> Census {
    [
        ("vpc", 1),
        ("subnet", 2),
        ("igw", 1),
        ("route-table", 1),
        ("security-group", 2),
        ("ecr", 1),
        ("log-group", 1),
        ("role", 2),
        ("parameter", 1),
        ("lock", 0),
        ("cluster", 1),
        ("load-balancer", 1),
        ("target-group", 1),
        ("listener", 1),
        ("task-definition", 1),
        ("service", 1),
    ]
    .into_iter()
    .collect()
}

pub fn empty() -> Census {
    expected().into_keys().map(|k| (k, 0)).collect()
}

/// EC2 filters selecting what stack `name` (env `default`) owns, by its tags.
pub fn owner(name: &str) -> Vec<Filter> {
    let f = |k: &str, v: &str| Filter::builder().name(format!("tag:{k}")).values(v).build();
    vec![f("stackctl:stack", name), f("stackctl:env", "default")]
}

/// Counts per kind of what stack `name` (env `default`) owns.
pub async fn census(endpoint: &str, name: &str) -> Census {
    // The emulator itself is the ground truth, not a proxy's view of it.
    let direct = std::env::var("STACKCTL_TEST_MOTO_DIRECT").ok();
    let aws = clients(direct.as_deref().unwrap_or(endpoint)).await;
    let ec2 = &aws.ec2;
    let mut c = Census::new();
    let o = || Some(owner(name));
    let vpcs = ec2.describe_vpcs().set_filters(o()).send().await.unwrap();
    c.insert("vpc", vpcs.vpcs().len());
    let subnets = ec2
        .describe_subnets()
        .set_filters(o())
        .send()
        .await
        .unwrap();
    c.insert("subnet", subnets.subnets().len());
    let igws = ec2
        .describe_internet_gateways()
        .set_filters(o())
        .send()
        .await;
    c.insert("igw", igws.unwrap().internet_gateways().len());
    let rtbs = ec2.describe_route_tables().set_filters(o()).send().await;
    c.insert("route-table", rtbs.unwrap().route_tables().len());
    let sgs = ec2.describe_security_groups().set_filters(o()).send().await;
    c.insert("security-group", sgs.unwrap().security_groups().len());

    let prefix = format!("{name}-default/");
    let repos = aws.ecr.describe_repositories().send().await.unwrap();
    let repos = repos.repositories().iter();
    c.insert(
        "ecr",
        repos
            .filter(|r| r.repository_name().is_some_and(|n| n.starts_with(&prefix)))
            .count(),
    );
    let logs = aws
        .logs
        .describe_log_groups()
        // Any environment's: "nothing left" must not miss one.
        .log_group_name_prefix(format!("/stackctl/{name}/"))
        .send()
        .await
        .unwrap();
    c.insert("log-group", logs.log_groups().len());
    let roles = aws
        .iam
        .list_roles()
        .path_prefix(format!("/stackctl/{name}/default/"))
        .send()
        .await
        .unwrap();
    c.insert("role", roles.roles().len());

    let params_prefix = format!("/stackctl/{name}/default/");
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("BeginsWith")
        .values(&params_prefix)
        .build()
        .unwrap();
    let params = aws
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = params
        .parameters()
        .iter()
        .filter_map(|p| p.name())
        .collect();
    let lock = format!("{params_prefix}lock");
    c.insert("lock", names.iter().filter(|n| **n == lock).count());
    c.insert("parameter", names.iter().filter(|n| **n != lock).count());

    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters(format!("{name}-default"))
        .send()
        .await
        .unwrap();
    let active = clusters.clusters().iter();
    c.insert(
        "cluster",
        active.filter(|c| c.status() == Some("ACTIVE")).count(),
    );
    balancing(&aws, name, &mut c).await;
    deployment(&aws, name, &mut c).await;
    c
}

async fn balancing(aws: &stackctl::aws::Aws, name: &str, c: &mut Census) {
    let prefix = format!("{name}-default");
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    let ours: Vec<_> = lbs
        .load_balancers()
        .iter()
        .filter(|l| l.load_balancer_name() == Some(prefix.as_str()))
        .collect();
    c.insert("load-balancer", ours.len());
    let mut listeners = 0;
    for lb in &ours {
        let l = aws
            .elb
            .describe_listeners()
            .load_balancer_arn(lb.load_balancer_arn().unwrap())
            .send()
            .await
            .unwrap();
        listeners += l.listeners().len();
    }
    c.insert("listener", listeners);
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    let tg_prefix = format!("{prefix}-");
    c.insert(
        "target-group",
        tgs.target_groups()
            .iter()
            .filter(|g| {
                g.target_group_name()
                    .is_some_and(|n| n.starts_with(&tg_prefix))
            })
            .count(),
    );
}

/// Task definition families with an ACTIVE revision (deregistered ones are not the stack's
/// any more), and services that are not deleted.
async fn deployment(aws: &stackctl::aws::Aws, name: &str, c: &mut Census) {
    use aws_sdk_ecs::types::TaskDefinitionStatus;
    let family = format!("{name}-default-api");
    let defs = aws
        .ecs
        .list_task_definitions()
        .family_prefix(&family)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    c.insert(
        "task-definition",
        usize::from(!defs.task_definition_arns().is_empty()),
    );
    let services = aws
        .ecs
        .describe_services()
        .cluster(format!("{name}-default"))
        .services(format!("{name}-default-api"))
        .send()
        .await;
    let live = services.map_or(0, |s| {
        s.services()
            .iter()
            .filter(|s| matches!(s.status(), Some("ACTIVE" | "DRAINING")))
            .count()
    });
    c.insert("service", live);
}

/// Kinds with more resources than one `up` makes (the lock is one name: never two).
pub fn duplicates(c: &Census) -> Vec<String> {
    let want = expected();
    c.iter()
        .filter(|(k, n)| **n > want[*k].max(1))
        .map(|(k, n)| format!("{n} {k}"))
        .collect()
}

/// "vpc=1 subnet=2 …" for tables; only the non-zero kinds.
pub fn short(c: &Census) -> String {
    let parts: Vec<String> = c
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}
