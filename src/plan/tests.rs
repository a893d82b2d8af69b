//! The planner as a table: desired × observed → changes.

use super::test_support::{converged, facts, stack};
use super::*;
use crate::aws;

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
        "slr/ecs",
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
            && deps_of("slr/ecs").is_empty(),
        "independent resources start at once"
    );
    assert_eq!(
        deps_of("cluster/main"),
        ["slr/ecs"],
        "ECS refuses CreateCluster before the account has its service-linked role"
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
                    if let State::SecurityGroup(aws::security_group::State { ingress, .. }) = s {
                        ingress.retain(|x| *x != r)
                    }
                }
            }),
            vec![Fix::SecurityGroup(aws::security_group::Fix::Authorize {
                rule: alb_80.clone(),
            })],
        ),
        (
            "rule added out of band",
            desired::alb_sg(),
            Box::new({
                let r = stray.clone();
                move |s| {
                    if let State::SecurityGroup(aws::security_group::State { ingress, .. }) = s {
                        ingress.push(r.clone())
                    }
                }
            }),
            vec![Fix::SecurityGroup(aws::security_group::Fix::Revoke {
                rule: stray.clone(),
            })],
        ),
        (
            "DNS hostnames turned off",
            desired::vpc(),
            Box::new(|s| {
                if let State::Vpc(aws::vpc::State { dns_hostnames, .. }) = s {
                    *dns_hostnames = false
                }
            }),
            vec![Fix::Vpc(aws::vpc::Fix::EnableDnsHostnames)],
        ),
        (
            "gateway detached",
            desired::igw(),
            Box::new(|s| {
                if let State::InternetGateway(aws::igw::State { attached_vpc }) = s {
                    *attached_vpc = None
                }
            }),
            vec![Fix::InternetGateway(aws::igw::Fix::AttachGateway)],
        ),
        (
            "default route deleted",
            desired::route_table(),
            Box::new(|s| {
                if let State::RouteTable(aws::route_table::State { routes, .. }) = s {
                    routes.clear()
                }
            }),
            vec![Fix::RouteTable(aws::route_table::Fix::AddRoute {
                destination: "0.0.0.0/0".into(),
            })],
        ),
        (
            "subnet disassociated",
            desired::route_table(),
            Box::new(|s| {
                if let State::RouteTable(aws::route_table::State { associations, .. }) = s {
                    associations.remove(0);
                }
            }),
            vec![Fix::RouteTable(aws::route_table::Fix::Associate {
                subnet: desired::subnet(0),
            })],
        ),
        (
            "public IPs off",
            desired::subnet(1),
            Box::new(|s| {
                if let State::Subnet(aws::subnet::State {
                    public_ip_on_launch,
                    ..
                }) = s
                {
                    *public_ip_on_launch = false
                }
            }),
            vec![Fix::Subnet(aws::subnet::Fix::MapPublicIp)],
        ),
        (
            "log retention changed",
            desired::log_group("api"),
            Box::new(|s| {
                if let State::LogGroup(aws::logs::State { retention_days }) = s {
                    *retention_days = None
                }
            }),
            vec![Fix::LogGroup(aws::logs::Fix::SetRetention {
                days: desired::LOG_RETENTION_DAYS,
            })],
        ),
        (
            "managed policy detached",
            desired::execution_role(),
            Box::new(|s| {
                if let State::Role(aws::iam::State { managed, .. }) = s {
                    managed.clear()
                }
            }),
            vec![Fix::Role(aws::iam::Fix::AttachPolicy {
                arn: format!("arn:aws:iam::aws:{}", desired::EXECUTION_POLICY),
            })],
        ),
        (
            "foreign policy attached",
            desired::task_role("api"),
            Box::new(|s| {
                if let State::Role(aws::iam::State { managed, .. }) = s {
                    managed.push("arn:aws:iam::aws:policy/AdministratorAccess".into())
                }
            }),
            vec![Fix::Role(aws::iam::Fix::DetachPolicy {
                arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            })],
        ),
        (
            "policy reformatted by IAM",
            desired::execution_role(),
            Box::new(|s| {
                if let State::Role(aws::iam::State { trust_policy, .. }) = s {
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
                if let State::Repository(aws::ecr::State { scan_on_push, .. }) = s {
                    *scan_on_push = false
                }
            }),
            vec![Fix::Repository(aws::ecr::Fix::ScanOnPush)],
        ),
        (
            "spot provider removed",
            desired::cluster(),
            Box::new(|s| {
                if let State::Cluster(aws::cluster::State {
                    capacity_providers, ..
                }) = s
                {
                    capacity_providers.pop();
                }
            }),
            vec![Fix::Cluster(aws::cluster::Fix::CapacityProviders)],
        ),
        (
            "listener pointed elsewhere",
            desired::listener(),
            Box::new(|s| {
                if let State::Listener(aws::listener::State {
                    target_group,
                    forwards,
                    ..
                }) = s
                {
                    *target_group = Some("arn:other".into());
                    *forwards = vec![("arn:other".into(), 1)];
                }
            }),
            vec![Fix::Listener(aws::listener::Fix::Modify {
                changed: vec!["forward to tg/api".into()],
            })],
        ),
        (
            "health check slowed",
            desired::target_group("api"),
            Box::new(|s| {
                if let State::TargetGroup(aws::target_group::State { health, .. }) = s {
                    health.interval = 30
                }
            }),
            vec![Fix::TargetGroup(aws::target_group::Fix::SetHealthCheck {
                health: desired::health_check("/status"),
            })],
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
        if let State::Vpc(aws::vpc::State { cidr, .. }) = s {
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
