//! The planner as a table: desired × observed → changes.

use std::path::Path;

use super::*;
use crate::config;

fn stack() -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&root.join("stack.yaml"), None).expect("example stack")
}

fn facts() -> Facts {
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

fn id_for(k: &Key) -> String {
    format!("id-{}", k.0.replace('/', "-"))
}

/// What AWS would report once `desired` exists exactly as declared.
fn converged(desired: &[Desired]) -> Vec<Observed> {
    let id = |k: &Key| id_for(k);
    desired
        .iter()
        .map(|d| {
            let state = match &d.spec {
                Spec::Vpc { cidr } => State::Vpc {
                    cidr: cidr.clone(),
                    dns_hostnames: true,
                    dns_support: true,
                },
                Spec::Subnet { cidr, az, vpc } => State::Subnet {
                    cidr: cidr.clone(),
                    az: az.clone(),
                    vpc_id: id(vpc),
                    public_ip_on_launch: true,
                },
                Spec::InternetGateway { vpc } => State::InternetGateway {
                    attached_vpc: Some(id(vpc)),
                },
                Spec::RouteTable {
                    vpc,
                    gateway,
                    subnets,
                } => State::RouteTable {
                    vpc_id: id(vpc),
                    routes: vec![("0.0.0.0/0".into(), id(gateway))],
                    associations: subnets
                        .iter()
                        .map(|s| (format!("assoc-{}", id(s)), id(s)))
                        .collect(),
                },
                Spec::SecurityGroup { vpc, ingress, .. } => State::SecurityGroup {
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
                },
                Spec::Repository {
                    scan_on_push,
                    lifecycle_policy,
                } => State::Repository {
                    scan_on_push: *scan_on_push,
                    lifecycle_policy: Some(lifecycle_policy.clone()),
                },
                Spec::LogGroup { retention_days } => State::LogGroup {
                    retention_days: Some(*retention_days),
                },
                Spec::Role {
                    path,
                    trust_policy,
                    managed,
                    inline,
                } => State::Role {
                    path: path.clone(),
                    trust_policy: trust_policy.clone(),
                    managed: managed.clone(),
                    inline: inline.clone(),
                },
                Spec::Parameter { .. } => State::Parameter {
                    version: 1,
                    generation: 1,
                },
                Spec::TaskDefinition { def } => State::TaskDefinition {
                    revision: 1,
                    def: def.clone(),
                },
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
                Spec::Cluster { capacity_providers } => State::Cluster {
                    status: "ACTIVE".into(),
                    capacity_providers: capacity_providers.clone(),
                },
                Spec::LoadBalancer {
                    subnets,
                    security_group,
                } => {
                    let mut subnet_ids: Vec<String> = subnets.iter().map(id).collect();
                    subnet_ids.sort();
                    State::LoadBalancer {
                        state: "active".into(),
                        dns_name: "lb.example".into(),
                        subnet_ids,
                        security_groups: vec![id(security_group)],
                    }
                }
                Spec::TargetGroup {
                    vpc,
                    port,
                    health,
                    deregistration_delay,
                } => State::TargetGroup {
                    vpc_id: id(vpc),
                    port: *port,
                    target_type: "ip".into(),
                    health: health.clone(),
                    deregistration_delay: Some(*deregistration_delay),
                },
                Spec::Listener { target_group, .. } => State::Listener {
                    port: 80,
                    target_group: Some(id(target_group)),
                },
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

fn edit(observed: &mut [Observed], key: &Key, f: impl FnOnce(&mut State)) {
    f(&mut observed
        .iter_mut()
        .find(|o| &o.key == key)
        .expect("key observed")
        .state)
}

#[test]
fn empty_account_creates_everything_in_dependency_order() {
    let want = desired::desired(&stack(), &facts());
    let plan = plan(&want, &[]);
    assert_eq!(plan.changes.len(), want.len());
    assert!(
        plan.changes
            .iter()
            .all(|c| matches!(c.action, Action::Create { .. }))
    );
    let keys: Vec<&str> = want.iter().map(|d| d.key.0.as_str()).collect();
    for k in [
        "alb/main",
        "tg/api",
        "listener/http",
        "vpc/main",
        "subnet/1",
        "subnet/2",
        "igw/main",
        "rtb/public",
        "sg/alb",
        "sg/svc-api",
        "ecr/api",
        "logs/api",
        "role/exec",
        "role/task-api",
        "ssm/token-api",
        "cluster/main",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    let deps = order(&plan, &want);
    let pos = |k: &str| plan.changes.iter().position(|c| c.key.0 == k).unwrap();
    let deps_of = |k: &str| {
        deps[pos(k)]
            .iter()
            .map(|i| plan.changes[*i].key.0.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(deps_of("subnet/1"), ["vpc/main"]);
    assert_eq!(
        deps_of("rtb/public"),
        ["vpc/main", "igw/main", "subnet/1", "subnet/2"]
    );
    assert_eq!(deps_of("sg/svc-api"), ["vpc/main", "sg/alb"]);
    assert!(
        deps_of("ecr/api").is_empty()
            && deps_of("role/exec").is_empty()
            && deps_of("cluster/main").is_empty(),
        "independent resources start at once"
    );
}

#[test]
fn converged_stack_plans_nothing() {
    let want = desired::desired(&stack(), &facts());
    let plan = plan(&want, &converged(&want));
    assert!(plan.is_empty(), "{}", render_text(&plan));
    assert_eq!(plan.unchanged, want.len());
    assert!(render_text(&plan).contains("No changes"));
}

#[test]
fn drift_table() {
    let want = desired::desired(&stack(), &facts());
    let alb_80 = Rule {
        protocol: "tcp".into(),
        from: 80,
        to: 80,
        peer: Peer::Cidr4("0.0.0.0/0".into()),
    };
    let stray = Rule {
        protocol: "tcp".into(),
        from: 22,
        to: 22,
        peer: Peer::Cidr4("0.0.0.0/0".into()),
    };
    type Case = (&'static str, Key, Box<dyn Fn(&mut State)>, Vec<Fix>);
    let cases: Vec<Case> = vec![
        (
            "rule removed out of band",
            desired::alb_sg(),
            Box::new({
                let r = alb_80.clone();
                move |s| {
                    if let State::SecurityGroup { ingress, .. } = s {
                        ingress.retain(|x| *x != r)
                    }
                }
            }),
            vec![Fix::Authorize {
                rule: alb_80.clone(),
            }],
        ),
        (
            "rule added out of band",
            desired::alb_sg(),
            Box::new({
                let r = stray.clone();
                move |s| {
                    if let State::SecurityGroup { ingress, .. } = s {
                        ingress.push(r.clone())
                    }
                }
            }),
            vec![Fix::Revoke {
                rule: stray.clone(),
            }],
        ),
        (
            "DNS hostnames turned off",
            desired::vpc(),
            Box::new(|s| {
                if let State::Vpc { dns_hostnames, .. } = s {
                    *dns_hostnames = false
                }
            }),
            vec![Fix::EnableDnsHostnames],
        ),
        (
            "gateway detached",
            desired::igw(),
            Box::new(|s| {
                if let State::InternetGateway { attached_vpc } = s {
                    *attached_vpc = None
                }
            }),
            vec![Fix::AttachGateway],
        ),
        (
            "default route deleted",
            desired::route_table(),
            Box::new(|s| {
                if let State::RouteTable { routes, .. } = s {
                    routes.clear()
                }
            }),
            vec![Fix::AddRoute {
                destination: "0.0.0.0/0".into(),
            }],
        ),
        (
            "subnet disassociated",
            desired::route_table(),
            Box::new(|s| {
                if let State::RouteTable { associations, .. } = s {
                    associations.remove(0);
                }
            }),
            vec![Fix::Associate {
                subnet: desired::subnet(0),
            }],
        ),
        (
            "public IPs off",
            desired::subnet(1),
            Box::new(|s| {
                if let State::Subnet {
                    public_ip_on_launch,
                    ..
                } = s
                {
                    *public_ip_on_launch = false
                }
            }),
            vec![Fix::MapPublicIp],
        ),
        (
            "log retention changed",
            desired::log_group("api"),
            Box::new(|s| {
                if let State::LogGroup { retention_days } = s {
                    *retention_days = None
                }
            }),
            vec![Fix::SetRetention {
                days: desired::LOG_RETENTION_DAYS,
            }],
        ),
        (
            "managed policy detached",
            desired::execution_role(),
            Box::new(|s| {
                if let State::Role { managed, .. } = s {
                    managed.clear()
                }
            }),
            vec![Fix::AttachPolicy {
                arn: format!("arn:aws:iam::aws:{}", desired::EXECUTION_POLICY),
            }],
        ),
        (
            "foreign policy attached",
            desired::task_role("api"),
            Box::new(|s| {
                if let State::Role { managed, .. } = s {
                    managed.push("arn:aws:iam::aws:policy/AdministratorAccess".into())
                }
            }),
            vec![Fix::DetachPolicy {
                arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            }],
        ),
        (
            "policy reformatted by IAM",
            desired::execution_role(),
            Box::new(|s| {
                if let State::Role { trust_policy, .. } = s {
                    *trust_policy = serde_json::to_string_pretty(
                        &serde_json::from_str::<serde_json::Value>(trust_policy).unwrap(),
                    )
                    .unwrap()
                }
            }),
            vec![],
        ),
        (
            "scan on push off",
            desired::repository("api"),
            Box::new(|s| {
                if let State::Repository { scan_on_push, .. } = s {
                    *scan_on_push = false
                }
            }),
            vec![Fix::ScanOnPush],
        ),
        (
            "spot provider removed",
            desired::cluster(),
            Box::new(|s| {
                if let State::Cluster {
                    capacity_providers, ..
                } = s
                {
                    capacity_providers.pop();
                }
            }),
            vec![Fix::CapacityProviders],
        ),
        (
            "listener pointed elsewhere",
            desired::listener(),
            Box::new(|s| {
                if let State::Listener { target_group, .. } = s {
                    *target_group = Some("arn:other".into())
                }
            }),
            vec![Fix::SetListenerTarget {
                target_group: desired::target_group("api"),
            }],
        ),
        (
            "health check slowed",
            desired::target_group("api"),
            Box::new(|s| {
                if let State::TargetGroup { health, .. } = s {
                    health.interval = 30
                }
            }),
            vec![Fix::SetHealthCheck {
                health: desired::health_check("/status"),
            }],
        ),
    ];
    for (what, key, mutate, expected) in cases {
        let mut have = converged(&want);
        edit(&mut have, &key, mutate);
        let plan = plan(&want, &have);
        let fixes: Vec<Fix> = plan
            .changes
            .iter()
            .flat_map(|c| match &c.action {
                Action::Update { fixes } => fixes.clone(),
                other => panic!("{what}: unexpected {other:?}"),
            })
            .collect();
        assert_eq!(fixes, expected, "{what}");
        assert!(
            plan.changes.iter().all(|c| c.key == key),
            "{what}: only {key} changes"
        );
    }
}

#[test]
fn immutable_changes_are_blocked_not_destroyed() {
    let want = desired::desired(&stack(), &facts());
    let mut have = converged(&want);
    edit(&mut have, &desired::vpc(), |s| {
        if let State::Vpc { cidr, .. } = s {
            *cidr = "10.9.0.0/16".into()
        }
    });
    let plan = plan(&want, &have);
    assert_eq!(plan.changes.len(), 1);
    assert!(
        matches!(&plan.changes[0].action, Action::Blocked { reason } if reason.contains("cannot change"))
    );
    assert!(render_text(&plan).contains("! VPC"));
}

#[test]
fn removed_services_and_duplicates_are_deleted() {
    let want = desired::desired(&stack(), &facts());
    let mut have = converged(&want);
    let mut dup = have
        .iter()
        .find(|o| o.key == desired::vpc())
        .unwrap()
        .clone();
    dup.id = "vpc-duplicate".into();
    have.push(dup);
    let mut old = have
        .iter()
        .find(|o| o.key == desired::log_group("api"))
        .unwrap()
        .clone();
    old.key = desired::log_group("old");
    old.id = "/stackctl/demo/default/old".into();
    have.push(old);
    let plan = plan(&want, &have);
    let deleted: Vec<&str> = plan
        .changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Delete { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, ["vpc-duplicate", "/stackctl/demo/default/old"]);
    assert!(render_text(&plan).contains("0 to add, 0 to change, 2 to destroy"));
}

#[test]
fn down_deletes_in_an_order_aws_accepts() {
    let want = desired::desired(&stack(), &facts());
    let have = converged(&want);
    let plan = plan(&[], &have);
    assert_eq!(plan.changes.len(), have.len());
    let deps = order(&plan, &[]);
    let pos = |k: &Key| plan.changes.iter().position(|c| &c.key == k).unwrap();
    let waits_for = |a: Key, b: Key| deps[pos(&a)].contains(&pos(&b));
    assert!(waits_for(desired::vpc(), desired::subnet(0)));
    assert!(waits_for(desired::vpc(), desired::igw()));
    assert!(waits_for(desired::vpc(), desired::alb_sg()));
    assert!(
        waits_for(desired::subnet(0), desired::route_table()),
        "route tables are disassociated before subnets go"
    );
    assert!(
        waits_for(desired::alb_sg(), desired::service_sg("api")),
        "the group others reference goes last"
    );
    assert!(!waits_for(desired::service_sg("api"), desired::alb_sg()));
    assert_eq!(
        deps[pos(&desired::cluster())],
        [pos(&desired::service("api"))],
        "the cluster waits only for its service"
    );
    assert!(
        deps[pos(&desired::service("api"))].is_empty(),
        "the service goes first"
    );
    for k in [
        desired::subnet(0),
        desired::service_sg("api"),
        desired::target_group("api"),
    ] {
        assert!(waits_for(k, desired::service("api")), "its tasks hold them");
    }
    assert!(
        waits_for(desired::subnet(0), desired::load_balancer()),
        "the load balancer's interfaces leave the subnets first"
    );
    assert!(waits_for(desired::alb_sg(), desired::load_balancer()));
    assert!(waits_for(desired::target_group("api"), desired::listener()));
    assert!(
        waits_for(desired::subnet(0), desired::load_balancer()),
        "the load balancer's interfaces leave the subnets first"
    );
    assert!(waits_for(desired::alb_sg(), desired::load_balancer()));
    assert!(waits_for(desired::target_group("api"), desired::listener()));
}

#[test]
fn json_plan_is_machine_readable_and_has_no_secret_values() {
    let want = desired::desired(&stack(), &facts());
    let plan = plan(&want, &[]);
    let json = render_json(&plan);
    assert_eq!(json["summary"]["add"], want.len());
    let ssm = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "ssm/token-api")
        .unwrap();
    assert_eq!(ssm["action"], "create");
    assert!(ssm.get("value").is_none() && !ssm.to_string().contains("Value"));
}

#[test]
fn a_new_image_registers_a_revision_and_deploys_the_service() {
    let f = facts();
    let have = converged(&desired::desired(&stack(), &f));
    let mut newer = f.clone();
    newer.images.get_mut("api").unwrap().reference = "repo@sha256:bb".into();
    let plan = plan(&desired::desired(&stack(), &newer), &have);
    let kinds: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.kind, c.action.clone()))
        .collect();
    assert_eq!(plan.changes.len(), 2, "{kinds:?}");
    let Action::Update { fixes } = &plan.changes[0].action else {
        panic!("{kinds:?}")
    };
    assert!(matches!(&fixes[0], Fix::RegisterRevision { changed } if changed == &["image"]));
    let Action::Update { fixes } = &plan.changes[1].action else {
        panic!("{kinds:?}")
    };
    assert_eq!(
        fixes,
        &[Fix::UpdateService {
            changed: vec!["task definition".into()]
        }],
        "the service is marked for deploy although it runs the family's latest revision"
    );
    let deps = order(&plan, &desired::desired(&stack(), &newer));
    assert_eq!(deps[1], [0], "the deploy waits for the new revision");
}

#[test]
fn an_unknown_image_is_not_a_change_but_settings_are() {
    let f = facts();
    let have = converged(&desired::desired(&stack(), &f));
    let mut unknown = f.clone();
    unknown.images.clear();
    assert!(plan(&desired::desired(&stack(), &unknown), &have).is_empty());
    let mut svc_changed = have.clone();
    for o in &mut svc_changed {
        if let State::Service(s) = &mut o.state {
            s.desired = 9;
            s.circuit_breaker = false;
        }
    }
    let p = plan(&desired::desired(&stack(), &f), &svc_changed);
    assert_eq!(p.changes.len(), 1);
    let Action::Update { fixes } = &p.changes[0].action else {
        panic!()
    };
    let Fix::UpdateService { changed } = &fixes[0] else {
        panic!()
    };
    assert_eq!(changed, &["desired 9 → 2", "rolling update settings"]);
}

#[test]
fn token_generations_are_ranked_and_stale_ones_deleted() {
    use desired::Generations;
    let g = Generations::of(&[3, 1, 2, 5]).unwrap();
    assert_eq!(
        (g.current, g.previous, g.retired),
        (5, None, None),
        "4 was revoked"
    );
    let g = Generations::of(&[4, 3, 2, 1]).unwrap();
    assert_eq!((g.current, g.previous, g.retired), (4, Some(3), Some(2)));
    assert_eq!(g.key("api", 1).0, "ssm/token-api-old-1");
    let mut f = facts();
    f.tokens.insert("api".into(), g);
    let want = desired::desired(&stack(), &f);
    let Some(Spec::TaskDefinition { def }) = want
        .iter()
        .find(|d| d.key == desired::task_definition("api"))
        .map(|d| &d.spec)
    else {
        panic!()
    };
    let secrets: Vec<_> = def.secrets.iter().collect();
    assert_eq!(secrets.len(), 2);
    assert!(
        secrets[0]
            .1
            .ends_with(":parameter/stackctl/demo/default/api/token/4")
    );
    assert_eq!(secrets[1].0, "API_TOKEN_PREVIOUS");
    assert!(secrets[1].1.ends_with("/api/token/3"));
    assert!(def.environment.values().all(|v| !v.contains("token/")));
}
