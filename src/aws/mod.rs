//! Everything that talks to AWS. One module per resource kind (registered in the table
//! below), each implementing [`kind::Resource`]; the SDK clients, errors and retries.

#[macro_use]
mod dispatch;

pub mod calls;
pub mod error;
pub mod kind;
pub mod once;
pub mod retry;

pub mod container;
pub mod elb;
pub mod permissions;
pub mod pricing;
pub mod route53;
pub mod scan;
pub mod service_deployment;
pub mod tagging;
pub mod tags;
pub mod task;

// Every resource kind, one row each: its name, its module (`src/aws/<module>.rs`, which
// implements `kind::Resource`), the prefix of its keys and its label in plans. The order is
// observe's and the plan's.
resource_kinds! {
    Vpc(vpc) => "vpc", "VPC";
    Subnet(subnet) => "subnet", "subnet";
    InternetGateway(igw) => "igw", "internet gateway";
    RouteTable(route_table) => "rtb", "route table";
    SecurityGroup(security_group) => "sg", "security group";
    Repository(ecr) => "ecr", "ECR repository";
    LogGroup(logs) => "logs", "log group";
    OidcProvider(oidc_provider) => "oidc", "OIDC provider";
    Policy(policy) => "policy", "IAM policy";
    Role(iam) => "role", "IAM role";
    ServiceLinkedRole(service_linked_role) => "slr", "service-linked role";
    DbSubnetGroup(db_subnet_group) => "dbsubnet", "DB subnet group";
    DbInstance(db_instance) => "db", "RDS instance";
    Parameter(ssm) => "ssm", "SSM parameter";
    Cluster(cluster) => "cluster", "ECS cluster";
    Namespace(namespace) => "namespace", "private DNS namespace";
    Discovery(discovery) => "discovery", "discovery service";
    Certificate(certificate) => "cert", "certificate";
    LoadBalancer(load_balancer) => "alb", "load balancer";
    TargetGroup(target_group) => "tg", "target group";
    Listener(listener) => "listener", "listener";
    Routes(routes) => "routes", "listener rules";
    DnsRecord(dns_record) => "dns", "DNS record";
    TaskDefinition(task_definition) => "taskdef", "task definition";
    Service(service) => "service", "ECS service";
    Scaling(scaling) => "scaling", "autoscaling";
}

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};

pub use calls::Calls;
pub use error::{AwsError, Ctx, Outcome};
pub use tags::tags;

/// The account and partition the credentials belong to.
#[derive(Clone, Debug)]
pub struct Identity {
    pub account: String,
    pub partition: String,
    /// Who the caller is: a user's ARN, or `…:assumed-role/<role>/<session>`.
    pub arn: String,
}

/// One SDK client per service, all counting their calls into `calls`.
pub struct Aws {
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub iam: aws_sdk_iam::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub sts: aws_sdk_sts::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub rds: aws_sdk_rds::Client,
    pub scaling: aws_sdk_applicationautoscaling::Client,
    pub acm: aws_sdk_acm::Client,
    pub route53: aws_sdk_route53::Client,
    pub discovery: aws_sdk_servicediscovery::Client,
    /// The Price List API, in [`pricing::API_REGION`] whatever the stack's region.
    pub pricing: aws_sdk_pricing::Client,
    pub calls: Calls,
    pub region: String,
}

impl Aws {
    /// Who the credentials are.
    pub async fn identity(&self) -> Result<Identity, AwsError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .ctx("get", "caller identity")?;
        let arn = out.arn().unwrap_or("arn:aws:");
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            partition: arn.split(':').nth(1).unwrap_or("aws").to_string(),
            arn: arn.to_string(),
        })
    }

    /// The standard AWS configuration chain (env, profiles, SSO, IMDS), `AWS_ENDPOINT_URL`
    /// included, with `profile` overriding the default one. Its region is the environment's
    /// or the profile's ([`region_source`] names which); [`Aws::with_region`] sets the one to use.
    pub async fn load(profile: Option<&str>) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Throttling and 5xx are retried with exponential backoff and jitter.
            .retry_config(RetryConfig::standard().with_max_attempts(8));
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        loader.load().await
    }

    /// Clients for `conf` in `region`.
    pub fn with_region(conf: &aws_config::SdkConfig, region: &str) -> Result<Aws, AwsError> {
        Aws::from_conf(
            &conf
                .to_builder()
                .region(Region::new(region.to_string()))
                .build(),
        )
    }

    /// Clients for an already loaded configuration.
    pub fn from_conf(conf: &aws_config::SdkConfig) -> Result<Aws, AwsError> {
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            AwsError::config(
                "no AWS region configured",
                "set `region:` in stack.yaml, pass --region, or export AWS_REGION",
            )
        })?;
        let calls = Calls::default();
        macro_rules! client {
            ($krate:ident) => {{
                let c = $krate::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build();
                $krate::Client::from_conf(c)
            }};
        }
        Ok(Aws {
            ec2: client!(aws_sdk_ec2),
            ecs: client!(aws_sdk_ecs),
            ecr: client!(aws_sdk_ecr),
            iam: client!(aws_sdk_iam),
            ssm: client!(aws_sdk_ssm),
            logs: client!(aws_sdk_cloudwatchlogs),
            elb: client!(aws_sdk_elasticloadbalancingv2),
            sts: client!(aws_sdk_sts),
            tagging: client!(aws_sdk_resourcegroupstagging),
            rds: client!(aws_sdk_rds),
            scaling: client!(aws_sdk_applicationautoscaling),
            acm: client!(aws_sdk_acm),
            route53: client!(aws_sdk_route53),
            discovery: client!(aws_sdk_servicediscovery),
            pricing: aws_sdk_pricing::Client::from_conf(
                aws_sdk_pricing::config::Builder::from(conf)
                    .region(Region::new(pricing::API_REGION))
                    .interceptor(calls.clone())
                    .build(),
            ),
            calls,
            region,
        })
    }
}

/// Where the environment's region came from, to name it in messages.
pub fn region_source(profile: Option<&str>) -> String {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if std::env::var(var).is_ok_and(|v| !v.is_empty()) {
            return var.to_string();
        }
    }
    let profile = profile
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".into());
    format!("the AWS profile `{profile}`")
}

/// `describe_*` of the EC2 resources owned by the stack (its tags), with the error named.
macro_rules! describe_owned {
    ($aws:expr, $names:expr, $describe:ident, $what:literal) => {
        $aws.ec2
            .$describe()
            .set_filters(Some($crate::aws::ec2_owner_filters($names)))
            .send()
            .await
            .ctx("describe", $what)
    };
}
pub(crate) use describe_owned;

/// Filters selecting EC2 resources owned by this stack and environment.
pub fn ec2_owner_filters(names: &crate::names::Names) -> Vec<aws_sdk_ec2::types::Filter> {
    use crate::names::{TAG_ENV, TAG_STACK};
    let f = |k: &str, v: &str| {
        aws_sdk_ec2::types::Filter::builder()
            .name(format!("tag:{k}"))
            .values(v)
            .build()
    };
    vec![f(TAG_STACK, &names.stack), f(TAG_ENV, &names.env)]
}

/// The `stackctl:resource` tag among EC2 tags.
pub fn ec2_resource_tag(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(crate::names::TAG_RESOURCE))
        .and_then(|t| t.value())
        .map(str::to_string)
}

/// The `Name` tag among EC2 tags.
pub fn ec2_name_tag(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .map(str::to_string)
}
