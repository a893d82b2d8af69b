//! What a stack owns in the emulator, counted per kind through a clean connection, so tests
//! can check "exactly one VPC" (no duplicates) and "nothing left" independently of stackctl.
//! Driven by `Kind::ALL`: a kind the census cannot count does not compile.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use aws_sdk_ssm::types::ParameterStringFilter;
use stackctl::aws::Aws;
use stackctl::plan::Kind;

use super::clients;

mod count;
use count::count;

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
        // No `ci:`: no provider, no CI policies (tests/ci.rs has them).
        Kind::OidcProvider | Kind::Policy => 0,
        // No `database:` in that stack.
        Kind::DbSubnetGroup | Kind::DbInstance => 0,
        // No `scaling:` either, nor `domain:`, nor routes or calls between services.
        Kind::Scaling
        | Kind::Certificate
        | Kind::DnsRecord
        | Kind::Routes
        | Kind::Namespace
        | Kind::Discovery => 0,
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
