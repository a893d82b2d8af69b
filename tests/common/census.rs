//! What a stack owns in the emulator, counted per kind through a clean connection, so tests
//! can check "exactly one VPC" (no duplicates) and "nothing left" independently of stackctl.
//! Driven by `Kind::ALL`: a kind the census cannot count does not compile.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::TaskDefinitionStatus;
use aws_sdk_ssm::types::ParameterStringFilter;
use stackctl::aws::Aws;
use stackctl::plan::Kind;

use super::clients;

/// Count by kind (its key prefix: `vpc`, `subnet`, `igw`, …) and the run lock (`lock`).
pub type Census = BTreeMap<&'static str, usize>;

pub const LOCK: &str = "lock";

/// What one `up` of [`super::Project::new`]'s stack (one public service with a token) owns.
pub fn expected() -> Census {
    let mut c: Census = Kind::ALL.iter().map(|k| (k.prefix(), per_up(*k))).collect();
    c.insert(LOCK, 0);
    c
}

fn per_up(kind: Kind) -> usize {
    match kind {
        // Two zones; the load balancer's group and the service's.
        Kind::Subnet | Kind::SecurityGroup => 2,
        // The execution role and the service's task role.
        Kind::Role => 2,
        // The account's, not the stack's (never deleted): not counted.
        Kind::ServiceLinkedRole => 0,
        // No `database:` in that stack.
        Kind::DbSubnetGroup | Kind::DbInstance => 0,
        // No `scaling:` either, nor `domain:`.
        Kind::Scaling | Kind::Certificate | Kind::DnsRecord => 0,
        Kind::Vpc
        | Kind::InternetGateway
        | Kind::RouteTable
        | Kind::Repository
        | Kind::LogGroup
        | Kind::Parameter
        | Kind::Cluster
        | Kind::LoadBalancer
        | Kind::TargetGroup
        | Kind::Listener
        | Kind::TaskDefinition
        | Kind::Service => 1,
    }
}

/// What one `up` owns when the stack has a `database:` used by its service: two private
/// subnets, their route table, the database's group, its subnet group and instance more.
pub fn expected_with_database() -> Census {
    let mut c = expected();
    for (kind, more) in [
        ("subnet", 2),
        ("rtb", 1),
        ("sg", 1),
        ("dbsubnet", 1),
        ("db", 1),
    ] {
        *c.get_mut(kind).unwrap() += more;
    }
    c
}

pub fn empty() -> Census {
    expected().into_keys().map(|k| (k, 0)).collect()
}

/// What one `up` owns when its service scales: the scalable target more.
pub fn expected_with_scaling() -> Census {
    let mut c = expected();
    *c.get_mut("scaling").unwrap() += 1;
    c
}

/// What one `up` owns with a `domain:`: the certificate, the HTTPS listener, the record.
pub fn expected_with_domain() -> Census {
    let mut c = expected();
    for kind in ["cert", "listener", "dns"] {
        *c.get_mut(kind).unwrap() += 1;
    }
    c
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
    // Listed once for the kinds (and the lock) that share them.
    let prefix = format!("{name}-default");
    let listed = Listed {
        parameters: parameters(&aws, name).await,
        lock: format!("/stackctl/{name}/default/lock"),
        load_balancers: load_balancers(&aws, &prefix).await,
    };
    let mut c = Census::new();
    for kind in Kind::ALL {
        c.insert(kind.prefix(), count(&aws, name, &listed, *kind).await);
    }
    let locks = listed.parameters.iter().filter(|n| **n == listed.lock);
    c.insert(LOCK, locks.count());
    c
}

/// What more than one count reads.
struct Listed {
    /// Stack `name`'s SSM parameter names, the lock's among them.
    parameters: Vec<String>,
    lock: String,
    load_balancers: Vec<String>,
}

/// Stack `name`'s resources of `kind`, read with the SDK's own calls (not stackctl's finds).
async fn count(aws: &Aws, name: &str, listed: &Listed, kind: Kind) -> usize {
    let (ec2, o) = (&aws.ec2, || Some(owner(name)));
    let prefix = format!("{name}-default");
    match kind {
        Kind::Vpc => {
            let out = ec2.describe_vpcs().set_filters(o()).send().await;
            out.unwrap().vpcs().len()
        }
        Kind::Subnet => {
            let out = ec2.describe_subnets().set_filters(o()).send().await;
            out.unwrap().subnets().len()
        }
        Kind::InternetGateway => {
            let out = ec2
                .describe_internet_gateways()
                .set_filters(o())
                .send()
                .await;
            out.unwrap().internet_gateways().len()
        }
        Kind::RouteTable => {
            let out = ec2.describe_route_tables().set_filters(o()).send().await;
            out.unwrap().route_tables().len()
        }
        Kind::SecurityGroup => {
            let out = ec2.describe_security_groups().set_filters(o()).send().await;
            out.unwrap().security_groups().len()
        }
        Kind::Repository => {
            let repos = aws.ecr.describe_repositories().send().await.unwrap();
            let ours = format!("{prefix}/");
            let names = repos
                .repositories()
                .iter()
                .filter_map(|r| r.repository_name());
            names.filter(|n| n.starts_with(&ours)).count()
        }
        Kind::LogGroup => {
            let logs = aws.logs.describe_log_groups();
            // Any environment's: "nothing left" must not miss one.
            let out = logs
                .log_group_name_prefix(format!("/stackctl/{name}/"))
                .send()
                .await;
            out.unwrap().log_groups().len()
        }
        Kind::Role => {
            let roles = aws.iam.list_roles();
            let out = roles
                .path_prefix(format!("/stackctl/{name}/default/"))
                .send()
                .await;
            out.unwrap().roles().len()
        }
        Kind::ServiceLinkedRole => 0,
        // RDS keeps identifiers in lowercase; the names are stackctl's deterministic ones.
        Kind::DbSubnetGroup => {
            let out = aws.rds.describe_db_subnet_groups().send().await.unwrap();
            let groups = out.db_subnet_groups().iter();
            groups
                .filter(|g| g.db_subnet_group_name() == Some(prefix.as_str()))
                .count()
        }
        Kind::DbInstance => {
            let out = aws.rds.describe_db_instances().send().await.unwrap();
            let instances = out.db_instances().iter();
            instances
                .filter(|i| i.db_instance_identifier() == Some(prefix.as_str()))
                .count()
        }
        Kind::Parameter => {
            let params = listed.parameters.iter();
            params.filter(|n| **n != listed.lock).count()
        }
        Kind::Cluster => {
            let out = aws.ecs.describe_clusters().clusters(&prefix).send().await;
            let clusters = out.unwrap();
            let active = clusters.clusters().iter();
            active.filter(|c| c.status() == Some("ACTIVE")).count()
        }
        Kind::LoadBalancer => listed.load_balancers.len(),
        Kind::Listener => {
            let mut listeners = 0;
            for arn in &listed.load_balancers {
                let l = aws
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(arn)
                    .send()
                    .await;
                listeners += l.unwrap().listeners().len();
            }
            listeners
        }
        Kind::TargetGroup => {
            let tgs = aws.elb.describe_target_groups().send().await.unwrap();
            let ours = format!("{prefix}-");
            let names = tgs
                .target_groups()
                .iter()
                .filter_map(|g| g.target_group_name());
            names.filter(|n| n.starts_with(&ours)).count()
        }
        // Families with an ACTIVE revision (deregistered ones are not the stack's any more).
        Kind::TaskDefinition => {
            let defs = aws.ecs.list_task_definitions();
            let defs = defs.family_prefix(format!("{prefix}-api"));
            let out = defs.status(TaskDefinitionStatus::Active).send().await;
            usize::from(!out.unwrap().task_definition_arns().is_empty())
        }
        // Certificates tagged with the stack.
        Kind::Certificate => {
            let out = aws.acm.list_certificates().send().await.unwrap();
            let mut n = 0;
            for c in out.certificate_summary_list() {
                let arn = c.certificate_arn().unwrap();
                let tags = aws.acm.list_tags_for_certificate().certificate_arn(arn);
                let tags = tags.send().await.unwrap();
                let ours = tags
                    .tags()
                    .iter()
                    .any(|t| t.key() == "stackctl:stack" && t.value() == Some(name));
                n += usize::from(ours);
            }
            n
        }
        // Alias records, in any zone, that point at the stack's load balancer by its name.
        Kind::DnsRecord => {
            let zones = aws.route53.list_hosted_zones().send().await.unwrap();
            let mut n = 0;
            for z in zones.hosted_zones() {
                let sets = aws
                    .route53
                    .list_resource_record_sets()
                    .hosted_zone_id(z.id());
                for r in sets.send().await.unwrap().resource_record_sets() {
                    let target = r.alias_target().map(|a| a.dns_name()).unwrap_or_default();
                    n += usize::from(target.contains(&format!("{prefix}-")));
                }
            }
            n
        }
        // Scalable targets on the stack's cluster.
        Kind::Scaling => {
            let out = aws
                .scaling
                .describe_scalable_targets()
                .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
                .send()
                .await
                .unwrap();
            let ours = format!("service/{prefix}/");
            let targets = out.scalable_targets().iter();
            targets
                .filter(|t| t.resource_id().starts_with(&ours))
                .count()
        }
        // Services that are not deleted.
        Kind::Service => {
            let services = aws.ecs.describe_services().cluster(&prefix);
            let out = services.services(format!("{prefix}-api")).send().await;
            out.map_or(0, |s| {
                let live = |s: &&aws_sdk_ecs::types::Service| {
                    matches!(s.status(), Some("ACTIVE" | "DRAINING"))
                };
                s.services().iter().filter(live).count()
            })
        }
    }
}

/// Names of stack `name`'s SSM parameters (env `default`).
async fn parameters(aws: &Aws, name: &str) -> Vec<String> {
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("BeginsWith")
        .values(format!("/stackctl/{name}/default/"))
        .build()
        .unwrap();
    let describe = aws.ssm.describe_parameters().parameter_filters(filter);
    let params = describe.send().await.unwrap();
    let names = params.parameters().iter().filter_map(|p| p.name());
    names.map(str::to_string).collect()
}

/// ARNs of the load balancers named after stack `name`.
async fn load_balancers(aws: &Aws, prefix: &str) -> Vec<String> {
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    let ours = lbs.load_balancers().iter();
    let ours = ours.filter(|l| l.load_balancer_name() == Some(prefix));
    ours.filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect()
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
