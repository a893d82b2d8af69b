//! Desired state: stack.yaml + facts about the account → the resources the stack should have.

use std::collections::BTreeMap;

use serde_json::json;

pub use super::ecs::{Generations, Image};
use super::resource::{Desired, HealthCheck, Key, Kind, Peer, Rule, ServiceSpec, Spec};
use super::task_def::task_def;
use crate::aws;
use crate::config::{Source, Stack};

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
pub fn cluster() -> Key {
    Key::new(Kind::Cluster, "main")
}
pub fn load_balancer() -> Key {
    Key::new(Kind::LoadBalancer, "main")
}
pub fn target_group(svc: &str) -> Key {
    Key::new(Kind::TargetGroup, svc)
}
pub fn listener() -> Key {
    Key::new(Kind::Listener, "http")
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

pub fn desired(stack: &Stack, facts: &Facts) -> Vec<Desired> {
    let n = stack.names();
    let mut out = Vec::new();
    let mut push = |key: Key, name: String, spec: Spec| out.push(Desired { key, name, spec });

    push(
        vpc(),
        n.vpc(),
        Spec::Vpc(aws::vpc::Spec {
            cidr: stack.network.cidr.to_string(),
        }),
    );
    let cidrs = stack.network.subnet_cidrs();
    for (i, cidr) in cidrs.iter().enumerate() {
        let az = facts.zones.get(i).cloned().unwrap_or_default();
        push(
            subnet(i),
            n.subnet(i),
            Spec::Subnet(aws::subnet::Spec {
                cidr: cidr.to_string(),
                az,
                vpc: vpc(),
            }),
        );
    }
    push(
        igw(),
        n.internet_gateway(),
        Spec::InternetGateway(aws::igw::Spec { vpc: vpc() }),
    );
    let subnets = (0..cidrs.len()).map(subnet).collect();
    push(
        route_table(),
        n.route_table(),
        Spec::RouteTable(aws::route_table::Spec {
            vpc: vpc(),
            gateway: igw(),
            subnets,
        }),
    );

    let tcp = |port: i32, peer: Peer| Rule {
        protocol: "tcp".into(),
        from: port,
        to: port,
        peer,
    };
    let web = [80, 443]
        .into_iter()
        .flat_map(|p| {
            [
                tcp(p, Peer::Cidr4("0.0.0.0/0".into())),
                tcp(p, Peer::Cidr6("::/0".into())),
            ]
        })
        .collect();
    let describe = |what: &str| format!("stackctl {}/{}: {what}", stack.name, stack.env);
    push(
        alb_sg(),
        n.alb_security_group(),
        Spec::SecurityGroup(aws::security_group::Spec {
            vpc: vpc(),
            description: describe("load balancer"),
            ingress: web,
        }),
    );

    let param_arn = format!("{}*", parameter_arn(facts, &n.parameter_prefix()));
    let read_params = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"], "Resource": param_arn }]
    });
    push(
        execution_role(),
        n.execution_role(),
        Spec::Role(aws::iam::Spec {
            path: role_path(stack),
            trust_policy: trust_policy(facts),
            managed: vec![format!(
                "arn:{}:iam::aws:{EXECUTION_POLICY}",
                facts.partition
            )],
            inline: vec![(n.parameters_policy().into(), read_params.to_string())],
        }),
    );
    push(
        cluster(),
        n.cluster(),
        Spec::Cluster(aws::cluster::Spec {
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
        }),
    );

    let public: Vec<_> = stack.services.values().filter(|s| s.public).collect();
    if let Some(front) = public.first() {
        let subnets = (0..cidrs.len()).map(subnet).collect();
        push(
            load_balancer(),
            n.load_balancer(),
            Spec::LoadBalancer(aws::load_balancer::Spec {
                subnets,
                security_group: alb_sg(),
                gateway: igw(),
            }),
        );
        push(
            listener(),
            format!("{}:80", n.load_balancer()),
            Spec::Listener(aws::listener::Spec {
                load_balancer: load_balancer(),
                target_group: target_group(&front.name),
            }),
        );
    }
    for svc in &public {
        let spec = Spec::TargetGroup(aws::target_group::Spec {
            vpc: vpc(),
            port: svc.port as i32,
            health: health_check(&svc.health),
            deregistration_delay: DEREGISTRATION_DELAY,
        });
        push(target_group(&svc.name), n.target_group(&svc.name), spec);
    }

    for (name, svc) in &stack.services {
        let ingress = if svc.public {
            vec![tcp(svc.port as i32, Peer::Group(alb_sg()))]
        } else {
            vec![]
        };
        push(
            service_sg(name),
            n.service_security_group(name),
            Spec::SecurityGroup(aws::security_group::Spec {
                vpc: vpc(),
                description: describe(&format!("service {name}")),
                ingress,
            }),
        );
        if matches!(svc.source, Source::Build(_)) {
            push(
                repository(name),
                n.repository(name),
                Spec::Repository(aws::ecr::Spec {
                    scan_on_push: true,
                    lifecycle_policy: lifecycle_policy(),
                }),
            );
        }
        push(
            log_group(name),
            n.log_group(name),
            Spec::LogGroup(aws::logs::Spec {
                retention_days: LOG_RETENTION_DAYS,
            }),
        );
        push(
            task_role(name),
            n.task_role(name),
            Spec::Role(aws::iam::Spec {
                path: role_path(stack),
                trust_policy: trust_policy(facts),
                managed: vec![],
                inline: vec![],
            }),
        );
        if svc.token {
            let generations = facts.tokens.get(name).copied().unwrap_or(Generations {
                current: 1,
                ..Default::default()
            });
            let description = format!(
                "API token of {}/{}/{name} (managed by stackctl)",
                stack.name, stack.env
            );
            let kept = [
                Some(generations.current),
                generations.previous,
                generations.retired,
            ];
            for g in kept.into_iter().flatten() {
                push(
                    generations.key(name, g),
                    n.token_parameter(name, g),
                    Spec::Parameter(aws::ssm::Spec {
                        description: description.clone(),
                    }),
                );
            }
        }
        push(
            task_definition(name),
            n.task_family(name),
            Spec::TaskDefinition(aws::task_definition::Spec {
                def: task_def(stack, facts, svc),
            }),
        );
        let cidrs = stack.network.subnet_cidrs().len();
        push(
            service(name),
            n.ecs_service(name),
            Spec::Service(ServiceSpec {
                cluster: cluster(),
                task_definition: task_definition(name),
                desired: svc.desired as i32,
                subnets: (0..cidrs).map(subnet).collect(),
                security_group: service_sg(name),
                target_group: svc.public.then(|| (target_group(name), listener())),
                container: name.clone(),
                port: svc.port as i32,
                grace_seconds: GRACE_SECONDS,
            }),
        );
    }
    out
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
