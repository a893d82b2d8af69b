//! Shared by the planner's tests: the example stack, facts, and a converged observation.

use std::path::Path;

use super::*;
use crate::aws;
use crate::config;

pub(super) fn stack() -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&root.join("stack.yaml"), None).expect("example stack")
}

pub(super) fn facts() -> Facts {
    Facts {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        images:
            [(
                "api".to_string(),
                Image {
                    reference:
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-default/api@sha256:aa"
                            .into(),
                    health_command: Some(vec!["CMD".into(), "/api".into(), "healthcheck".into()]),
                },
            )]
            .into(),
        tokens: Default::default(),
    }
}

pub(super) fn id_for(k: &Key) -> String {
    format!("id-{}", k.0.replace('/', "-"))
}

/// What AWS would report once `desired` exists exactly as declared.
pub(super) fn converged(desired: &[Desired]) -> Vec<Observed> {
    let id = |k: &Key| id_for(k);
    desired
        .iter()
        .map(|d| {
            let state = match &d.spec {
                Spec::Vpc(aws::vpc::Spec { cidr }) => State::Vpc(aws::vpc::State {
                    cidr: cidr.clone(),
                    dns_hostnames: true,
                    dns_support: true,
                }),
                Spec::Subnet(aws::subnet::Spec { cidr, az, vpc }) => {
                    State::Subnet(aws::subnet::State {
                        cidr: cidr.clone(),
                        az: az.clone(),
                        vpc_id: id(vpc),
                        public_ip_on_launch: true,
                    })
                }
                Spec::InternetGateway(aws::igw::Spec { vpc }) => {
                    State::InternetGateway(aws::igw::State {
                        attached_vpc: Some(id(vpc)),
                    })
                }
                Spec::RouteTable(aws::route_table::Spec {
                    vpc,
                    gateway,
                    subnets,
                }) => State::RouteTable(aws::route_table::State {
                    vpc_id: id(vpc),
                    routes: vec![("0.0.0.0/0".into(), id(gateway))],
                    associations: subnets
                        .iter()
                        .map(|s| (format!("assoc-{}", id(s)), id(s)))
                        .collect(),
                }),
                Spec::SecurityGroup(aws::security_group::Spec { vpc, ingress, .. }) => {
                    State::SecurityGroup(aws::security_group::State {
                        vpc_id: id(vpc),
                        ingress: ingress
                            .iter()
                            .map(|r| match &r.peer {
                                Peer::Group(k) => Rule {
                                    peer: Peer::GroupId(id(k)),
                                    ..r.clone()
                                },
                                _ => r.clone(),
                            })
                            .collect(),
                    })
                }
                Spec::Repository(aws::ecr::Spec {
                    scan_on_push,
                    lifecycle_policy,
                }) => State::Repository(aws::ecr::State {
                    scan_on_push: *scan_on_push,
                    lifecycle_policy: Some(lifecycle_policy.clone()),
                }),
                Spec::LogGroup(aws::logs::Spec { retention_days }) => {
                    State::LogGroup(aws::logs::State {
                        retention_days: Some(*retention_days),
                    })
                }
                Spec::Role(aws::iam::Spec {
                    path,
                    trust_policy,
                    managed,
                    inline,
                }) => State::Role(aws::iam::State {
                    path: path.clone(),
                    trust_policy: trust_policy.clone(),
                    managed: managed.clone(),
                    inline: inline.clone(),
                }),
                Spec::Parameter(aws::ssm::Spec { .. }) => State::Parameter(aws::ssm::State {
                    version: 1,
                    generation: 1,
                }),
                Spec::TaskDefinition(aws::task_definition::Spec { def }) => {
                    State::TaskDefinition(aws::task_definition::State {
                        revision: 1,
                        def: def.clone(),
                    })
                }
                Spec::Service(s) => State::Service(ServiceState {
                    status: "ACTIVE".into(),
                    task_definition: id(&s.task_definition),
                    desired: s.desired,
                    running: s.desired,
                    pending: 0,
                    subnets: s.subnets.iter().map(id).collect(),
                    security_groups: vec![id(&s.security_group)],
                    public_ip: true,
                    target_group: s.target_group.as_ref().map(|(tg, _)| id(tg)),
                    container: Some(s.container.clone()),
                    port: Some(s.port),
                    grace_seconds: s.grace_seconds,
                    min_percent: MIN_PERCENT,
                    max_percent: MAX_PERCENT,
                    circuit_breaker: true,
                    rollback: true,
                    deployments: vec![],
                }),
                Spec::Cluster(aws::cluster::Spec { capacity_providers }) => {
                    State::Cluster(aws::cluster::State {
                        status: "ACTIVE".into(),
                        capacity_providers: capacity_providers.clone(),
                    })
                }
                Spec::LoadBalancer(aws::load_balancer::Spec {
                    subnets,
                    security_group,
                    ..
                }) => {
                    let mut subnet_ids: Vec<String> = subnets.iter().map(id).collect();
                    subnet_ids.sort();
                    State::LoadBalancer(aws::load_balancer::State {
                        state: "active".into(),
                        dns_name: "lb.example".into(),
                        subnet_ids,
                        security_groups: vec![id(security_group)],
                    })
                }
                Spec::TargetGroup(aws::target_group::Spec {
                    vpc,
                    port,
                    health,
                    deregistration_delay,
                }) => State::TargetGroup(aws::target_group::State {
                    vpc_id: id(vpc),
                    port: *port,
                    target_type: "ip".into(),
                    health: health.clone(),
                    deregistration_delay: Some(*deregistration_delay),
                }),
                Spec::Listener(aws::listener::Spec { target_group, .. }) => {
                    State::Listener(aws::listener::State {
                        port: 80,
                        target_group: Some(id(target_group)),
                    })
                }
            };
            Observed {
                key: d.key.clone(),
                id: id(&d.key),
                name: d.name.clone(),
                state,
            }
        })
        .collect()
}
