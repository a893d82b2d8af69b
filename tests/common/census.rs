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
    ]
    .into_iter()
    .collect()
}

pub fn empty() -> Census {
    expected().into_keys().map(|k| (k, 0)).collect()
}

fn owner(name: &str) -> Vec<Filter> {
    let f = |k: &str, v: &str| Filter::builder().name(format!("tag:{k}")).values(v).build();
    vec![f("stackctl:stack", name), f("stackctl:env", "default")]
}

/// Counts per kind of what stack `name` (env `default`) owns.
pub async fn census(endpoint: &str, name: &str) -> Census {
    let aws = clients(endpoint).await;
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
        .log_group_name_prefix(format!("/stackctl/{name}/default/"))
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
    c
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
