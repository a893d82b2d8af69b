//! Desired state: stack.yaml + facts about the account → the resources the stack should have.

use std::collections::BTreeMap;

use serde_json::json;

pub use super::ecs::{Generations, Image};
use super::resource::{Desired, HealthCheck, Key, Kind, Peer, Rule, ServiceSpec, Spec};
use super::task_def::task_def;
use crate::aws;
use crate::config::{Deploy, Service, Source, Stack};
use crate::names::Names;
pub use ci::{
    CI_ROLES, boundary_document, ci_boundary, ci_policy, ci_role, oidc_provider, provider_arn,
};

mod ci;
mod database;
pub mod entry;
pub mod service;
mod strategy;
pub use strategy::INFRASTRUCTURE_POLICY;

/// Facts read from AWS that desired state depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub account: String,
    pub region: String,
    pub partition: String,
    /// Availability zones to place subnets in, in order.
    pub zones: Vec<String>,
    /// Images to deploy, by service: known once built and pushed (or resolved).
    pub images: BTreeMap<String, Image>,
    /// Token generations found in SSM, by service.
    pub tokens: BTreeMap<String, Generations>,
    /// How services reach the database, once RDS has made its endpoint and secret.
    pub database: Option<aws::db_instance::Connection>,
    /// The public hosted zone of `domain:`, when stack.yaml has one.
    pub zone: Option<aws::route53::Zone>,
    /// The load balancer's DNS name, once it exists.
    pub load_balancer_dns: Option<String>,
    /// Services with two target groups (they deploy, or deployed, blue/green, canary or
    /// linear): the key of the one production is on now. ECS alternates them, so it is read
    /// from the listener's weights, never assumed.
    pub live: BTreeMap<String, Key>,
}

pub const LOG_RETENTION_DAYS: i32 = 30;
pub const KEEP_IMAGES: u32 = 30;
pub const EXECUTION_POLICY: &str = "policy/service-role/AmazonECSTaskExecutionRolePolicy";

pub fn vpc() -> Key {
    Key::new(Kind::Vpc, "main")
}
pub fn igw() -> Key {
    Key::new(Kind::InternetGateway, "main")
}
pub fn subnet(i: usize) -> Key {
    Key::new(Kind::Subnet, &(i + 1).to_string())
}
pub fn route_table() -> Key {
    Key::new(Kind::RouteTable, "public")
}
pub fn alb_sg() -> Key {
    Key::new(Kind::SecurityGroup, "alb")
}
pub fn service_sg(svc: &str) -> Key {
    Key::new(Kind::SecurityGroup, &format!("svc-{svc}"))
}
pub fn repository(svc: &str) -> Key {
    Key::new(Kind::Repository, svc)
}
pub fn log_group(svc: &str) -> Key {
    Key::new(Kind::LogGroup, svc)
}
pub fn execution_role() -> Key {
    Key::new(Kind::Role, "exec")
}
pub fn task_role(svc: &str) -> Key {
    Key::new(Kind::Role, &format!("task-{svc}"))
}
pub fn token(svc: &str) -> Key {
    Key::new(Kind::Parameter, &format!("token-{svc}"))
}
pub fn token_previous(svc: &str) -> Key {
    Key::new(Kind::Parameter, &format!("token-{svc}-previous"))
}
pub fn task_definition(svc: &str) -> Key {
    Key::new(Kind::TaskDefinition, svc)
}
pub fn service(svc: &str) -> Key {
    Key::new(Kind::Service, svc)
}
pub fn ecs_service_linked_role() -> Key {
    Key::new(Kind::ServiceLinkedRole, "ecs")
}
pub fn scaling_service_linked_role() -> Key {
    Key::new(Kind::ServiceLinkedRole, "ecs-scaling")
}
pub fn scaling(svc: &str) -> Key {
    Key::new(Kind::Scaling, svc)
}
pub fn namespace() -> Key {
    Key::new(Kind::Namespace, "main")
}
pub fn discovery(svc: &str) -> Key {
    Key::new(Kind::Discovery, svc)
}
pub fn cluster() -> Key {
    Key::new(Kind::Cluster, "main")
}
pub fn load_balancer() -> Key {
    Key::new(Kind::LoadBalancer, "main")
}
pub fn target_group(svc: &str) -> Key {
    Key::new(Kind::TargetGroup, svc)
}
/// The second target group of a service that deploys (or deployed) blue/green, canary or
/// linear.
pub fn alternate_target_group(svc: &str) -> Key {
    Key::new(Kind::TargetGroup, &format!("{svc}/alternate"))
}
pub fn infrastructure_role() -> Key {
    Key::new(Kind::Role, "ecs-infrastructure")
}
pub fn listener() -> Key {
    Key::new(Kind::Listener, "http")
}
pub fn https_listener() -> Key {
    Key::new(Kind::Listener, "https")
}
/// The stack's rules on listener `listener` (`http`, `https`).
pub fn routes(listener: &str) -> Key {
    Key::new(Kind::Routes, listener)
}
/// The stack's rules on the listener of key `listener`.
pub fn routes_on(listener: &Key) -> Key {
    routes(listener.name())
}
/// The listener that forwards to the public services: HTTPS with a domain.
pub fn forwarding_listener(stack: &Stack) -> Key {
    if stack.domain.is_some() {
        https_listener()
    } else {
        listener()
    }
}
pub fn certificate(domain: &str) -> Key {
    Key::new(Kind::Certificate, domain)
}
pub fn dns_record(domain: &str) -> Key {
    Key::new(Kind::DnsRecord, domain)
}
pub fn private_subnet(i: usize) -> Key {
    Key::new(Kind::Subnet, &format!("private-{}", i + 1))
}
pub fn private_route_table() -> Key {
    Key::new(Kind::RouteTable, "private")
}
pub fn db_sg() -> Key {
    Key::new(Kind::SecurityGroup, "db")
}
pub fn db_subnet_group() -> Key {
    Key::new(Kind::DbSubnetGroup, "main")
}
pub fn db_instance() -> Key {
    Key::new(Kind::DbInstance, "main")
}

/// Fast health checks: a task is in service ~10 s after it listens, out ~10 s after it fails.
pub fn health_check(path: &str) -> HealthCheck {
    HealthCheck {
        path: path.to_string(),
        interval: 5,
        timeout: 4,
        healthy: 2,
        unhealthy: 2,
    }
}
/// Seconds a target keeps draining in-flight requests after it is deregistered.
pub const DEREGISTRATION_DELAY: i32 = 5;
/// Seconds between SIGTERM and SIGKILL: in-flight requests finish (the API drains in ~1 s).
pub const STOP_TIMEOUT: i32 = 30;
/// Seconds ECS ignores failing load balancer health checks of a new task.
pub const GRACE_SECONDS: i32 = 30;
/// The non-root user of images stackctl builds.
pub const APP_USER: &str = "65532:65532";

/// Everything the stack should have, in the order a plan lists it.
pub fn desired(stack: &Stack, facts: &Facts) -> Vec<Desired> {
    let mut b = Builder {
        stack,
        facts,
        n: stack.names(),
        out: Vec::new(),
    };
    b.network();
    b.database();
    b.shared();
    b.infrastructure();
    b.namespace();
    b.entry();
    for (name, svc) in &stack.services {
        b.service(name, svc);
    }
    // Last: it bounds the stack's roles, all made by now.
    b.ci();
    b.out
}

struct Builder<'a> {
    stack: &'a Stack,
    facts: &'a Facts,
    n: Names,
    out: Vec<Desired>,
}

fn tcp(port: i32, peer: Peer) -> Rule {
    Rule {
        protocol: "tcp".into(),
        from: port,
        to: port,
        peer,
    }
}

impl Builder<'_> {
    fn push(&mut self, key: Key, name: String, spec: Spec) {
        self.out.push(Desired { key, name, spec });
    }

    fn subnets(&self) -> Vec<Key> {
        (0..self.stack.network.subnet_cidrs().len())
            .map(subnet)
            .collect()
    }

    fn describe(&self, what: &str) -> String {
        format!("stackctl {}/{}: {what}", self.stack.name, self.stack.env)
    }

    /// VPC, public subnets, internet gateway, route table, the load balancer's group.
    fn network(&mut self) {
        let (stack, facts) = (self.stack, self.facts);
        let cidr = stack.network.cidr.to_string();
        self.push(vpc(), self.n.vpc(), Spec::Vpc(aws::vpc::Spec { cidr }));
        for (i, cidr) in stack.network.subnet_cidrs().iter().enumerate() {
            let spec = aws::subnet::Spec {
                cidr: cidr.to_string(),
                az: facts.zones.get(i).cloned().unwrap_or_default(),
                vpc: vpc(),
                public: true,
            };
            self.push(subnet(i), self.n.subnet(i), Spec::Subnet(spec));
        }
        let spec = Spec::InternetGateway(aws::igw::Spec { vpc: vpc() });
        self.push(igw(), self.n.internet_gateway(), spec);
        let spec = aws::route_table::Spec {
            vpc: vpc(),
            gateway: Some(igw()),
            subnets: self.subnets(),
        };
        self.push(route_table(), self.n.route_table(), Spec::RouteTable(spec));
        let web = [80, 443]
            .into_iter()
            .flat_map(|p| {
                [
                    tcp(p, Peer::Cidr4("0.0.0.0/0".into())),
                    tcp(p, Peer::Cidr6("::/0".into())),
                ]
            })
            .collect();
        let spec = aws::security_group::Spec {
            vpc: vpc(),
            description: self.describe("load balancer"),
            ingress: web,
        };
        self.push(
            alb_sg(),
            self.n.alb_security_group(),
            Spec::SecurityGroup(spec),
        );
    }

    /// What every service uses: the task execution role, the cluster (and the account's ECS
    /// service-linked role, which it needs).
    fn shared(&mut self) {
        let facts = self.facts;
        let param_arn = format!("{}*", parameter_arn(facts, &self.n.parameter_prefix()));
        let read_params = json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"], "Resource": param_arn }]
        });
        let spec = aws::iam::Spec {
            path: role_path(self.stack),
            trust_policy: trust_policy(facts),
            managed: vec![format!(
                "arn:{}:iam::aws:{EXECUTION_POLICY}",
                facts.partition
            )],
            inline: self.execution_policies(read_params),
            boundary: None,
            after: vec![],
        };
        self.push(execution_role(), self.n.execution_role(), Spec::Role(spec));
        let spec = aws::service_linked_role::Spec {
            service: aws::service_linked_role::ECS_SERVICE.into(),
        };
        let role = aws::service_linked_role::ECS_ROLE.into();
        let key = ecs_service_linked_role();
        self.push(key, role, Spec::ServiceLinkedRole(spec));
        if self.stack.services.values().any(|s| s.scaling.is_some()) {
            let spec = aws::service_linked_role::Spec {
                service: aws::service_linked_role::SCALING_SERVICE.into(),
            };
            let role = aws::service_linked_role::SCALING_ROLE.into();
            let key = scaling_service_linked_role();
            self.push(key, role, Spec::ServiceLinkedRole(spec));
        }
        let spec = aws::cluster::Spec {
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
        };
        self.push(cluster(), self.n.cluster(), Spec::Cluster(spec));
    }

    /// The execution role's inline policies: the stack's parameters, and the database's
    /// secret. Its ARN ends in a random suffix, unknown until RDS makes it, so the policy
    /// names it by the tag RDS puts on it: the instance's ARN, known from its name (RDS User
    /// Guide, "Password management with Amazon RDS and AWS Secrets Manager").
    fn execution_policies(&self, read_params: serde_json::Value) -> Vec<(String, String)> {
        let facts = self.facts;
        let mut out = vec![(self.n.parameters_policy().into(), read_params.to_string())];
        if self.stack.database.is_some() {
            let instance = self
                .n
                .db_instance_arn(&facts.partition, &facts.region, &facts.account);
            let secrets = format!(
                "arn:{}:secretsmanager:{}:{}:secret:rds!db-*",
                facts.partition, facts.region, facts.account
            );
            let read_secret = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": secrets,
                    "Condition": { "StringEquals": { "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn": instance } }
                }]
            });
            out.push((
                self.n.database_secret_policy().into(),
                read_secret.to_string(),
            ));
        }
        out
    }
}

/// The ARN of an SSM parameter of this account and region (`name` starts with `/`).
pub fn parameter_arn(facts: &Facts, name: &str) -> String {
    format!(
        "arn:{}:ssm:{}:{}:parameter{name}",
        facts.partition, facts.region, facts.account
    )
}

/// IAM path: lets one ListRoles call find every role of the stack.
pub fn role_path(stack: &Stack) -> String {
    format!("/stackctl/{}/{}/", stack.name, stack.env)
}

fn trust_policy(facts: &Facts) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ecs-tasks.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": facts.account } }
        }]
    })
    .to_string()
}

fn lifecycle_policy() -> String {
    json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {KEEP_IMAGES} images"),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_IMAGES },
            "action": { "type": "expire" }
        }]
    })
    .to_string()
}
