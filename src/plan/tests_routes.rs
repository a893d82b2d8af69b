//! The planner with several services: rules on the load balancer in a fixed order, a 404
//! without a default service, and private services found by name and reached only by the
//! services that call them.

use std::path::Path;

use super::test_support::{converged, facts};
use super::*;
use crate::aws;
use crate::config;

fn parse(services: &str) -> config::Stack {
    let text = format!("name: demo\nservices:\n{services}");
    config::parse(Path::new("stack.yaml"), &text, Path::new("."), None).expect("valid stack")
}

fn spec<'a>(want: &'a [Desired], key: &Key) -> &'a Spec {
    &want.iter().find(|d| &d.key == key).expect("wanted").spec
}

const TWO_TIER: &str = "
  web: { image: web:1, port: 8000, public: true, calls: [users] }
  users: { image: users:1, port: 8080 }
";

#[test]
fn a_caller_reaches_its_callee_by_name_and_nothing_else_does() {
    let want = desired::desired(&parse(TWO_TIER), &facts());
    let Spec::Namespace(ns) = spec(&want, &desired::namespace()) else {
        unreachable!()
    };
    assert_eq!(ns.vpc, desired::vpc());
    let names: Vec<_> = want
        .iter()
        .filter(|d| d.key == desired::namespace() || d.spec.kind() == Kind::Discovery)
        .map(|d| (d.key.0.as_str(), d.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("namespace/main", "demo-default.internal"),
            ("discovery/users", "users")
        ]
    );
    // The callee's group admits the caller's on its port, and nothing else.
    let Spec::SecurityGroup(sg) = spec(&want, &desired::service_sg("users")) else {
        unreachable!()
    };
    let peers: Vec<_> = sg.ingress.iter().map(|r| (&r.peer, r.from)).collect();
    assert_eq!(peers, [(&Peer::Group(desired::service_sg("web")), 8080)]);
    // ECS registers the callee's tasks; the caller is told where to find it.
    let Spec::Service(users) = spec(&want, &desired::service("users")) else {
        unreachable!()
    };
    assert_eq!(users.registry, Some(desired::discovery("users")));
    assert_eq!(users.target_group, None);
    let Spec::Service(web) = spec(&want, &desired::service("web")) else {
        unreachable!()
    };
    assert_eq!(web.registry, None);
    let Spec::TaskDefinition(td) = spec(&want, &desired::task_definition("web")) else {
        unreachable!()
    };
    assert_eq!(
        td.def.environment.get("USERS_URL").map(String::as_str),
        Some("http://users.demo-default.internal:8080")
    );
    let Spec::TaskDefinition(td) = spec(&want, &desired::task_definition("users")) else {
        unreachable!()
    };
    assert!(!td.def.environment.contains_key("WEB_URL"));
    // The order: the namespace and the registry before the service that registers in it.
    let fresh = plan(&want, &[]);
    let deps = order(&fresh, &want);
    let pos = |k: &Key| fresh.changes.iter().position(|c| &c.key == k).unwrap();
    let users_at = pos(&desired::service("users"));
    assert!(deps[users_at].contains(&pos(&desired::discovery("users"))));
    let reg_at = pos(&desired::discovery("users"));
    assert!(deps[reg_at].contains(&pos(&desired::namespace())));
    assert!(plan(&want, &converged(&want)).is_empty());
}

#[test]
fn without_calls_there_is_no_namespace_and_a_dropped_call_closes_the_port() {
    let before = desired::desired(&parse(TWO_TIER), &facts());
    let alone = "
  web: { image: web:1, port: 8000, public: true }
  users: { image: users:1, port: 8080 }
";
    let after = desired::desired(&parse(alone), &facts());
    assert!(
        after
            .iter()
            .all(|d| !matches!(d.spec.kind(), Kind::Namespace | Kind::Discovery))
    );
    let p = plan(&after, &converged(&before));
    let text = render_text(&p);
    for (key, what) in [
        ("discovery/users", "delete"),
        ("namespace/main", "delete"),
        ("sg/svc-users", "update"),
        ("service/users", "update"),
    ] {
        let c = p.changes.iter().find(|c| c.key.0 == key);
        let c = c.unwrap_or_else(|| panic!("{key} unchanged: {text}"));
        let is = match c.action {
            Action::Delete { .. } => "delete",
            Action::Update { .. } => "update",
            _ => "other",
        };
        assert_eq!(is, what, "{key}: {text}");
    }
    // ECS stops registering before the registry goes, and the registry before the namespace.
    let deps = order(&p, &after);
    let pos = |k: &str| p.changes.iter().position(|c| c.key.0 == k).unwrap();
    assert!(deps[pos("namespace/main")].contains(&pos("discovery/users")));
}

const ROUTED: &str = "
  api: { image: api:1, port: 8080, public: true }
  users: { image: users:1, port: 8080, public: { paths: [/users, /users/*] } }
  v2: { image: v2:1, port: 8080, public: { paths: [/users/v2/*] } }
  admin: { image: admin:1, port: 8080, public: { host: Admin.Example.com } }
  reports: { image: r:1, port: 8080, public: { host: admin.example.com, paths: [/reports*] } }
";

#[test]
fn routes_are_numbered_most_specific_first_and_the_default_takes_the_rest() {
    let stack = parse(ROUTED);
    let want = desired::desired(&stack, &facts());
    let Spec::Routes(r) = spec(&want, &desired::routes("http")) else {
        unreachable!()
    };
    assert_eq!(r.listener, desired::listener());
    let order: Vec<_> = r
        .rules
        .iter()
        .map(|r| (r.priority, r.service.as_str(), aws::routes::describe(r)))
        .collect();
    assert_eq!(
        order,
        [
            (
                10,
                "reports",
                "host admin.example.com, paths /reports*".into()
            ),
            (20, "admin", "host admin.example.com".into()),
            (30, "v2", "paths /users/v2/*".into()),
            (40, "users", "paths /users /users/*".into()),
        ]
    );
    let Spec::Listener(l) = spec(&want, &desired::listener()) else {
        unreachable!()
    };
    assert_eq!(
        l.action,
        aws::listener::Forwarding::Forward {
            target_group: desired::target_group("api"),
            alternate: None,
        }
    );
    // A routed service's target group is attached by its rule, which ECS needs first.
    let Spec::Service(users) = spec(&want, &desired::service("users")) else {
        unreachable!()
    };
    assert_eq!(
        users.target_group,
        Some((desired::target_group("users"), desired::routes("http")))
    );
    assert!(plan(&want, &converged(&want)).is_empty());
    // The plan shows the rules.
    let text = render_text(&plan(&want, &[]));
    assert!(text.contains("routes/http"), "{text}");
    assert!(
        text.contains("    10: host admin.example.com, paths /reports* → reports\n"),
        "{text}"
    );
}

#[test]
fn a_new_route_reorders_and_changed_paths_are_modified_in_one_step() {
    let before = desired::desired(&parse(ROUTED), &facts());
    let have = converged(&before);
    let fewer = ROUTED.replace("[/users, /users/*]", "[/people/*]").replace(
        "  v2: { image: v2:1, port: 8080, public: { paths: [/users/v2/*] } }\n",
        "",
    );
    let after = desired::desired(&parse(&fewer), &facts());
    let p = plan(&after, &have);
    let c = p
        .changes
        .iter()
        .find(|c| c.key == desired::routes("http"))
        .expect("routes change");
    let Action::Update { fixes } = &c.action else {
        panic!("{c:?}")
    };
    assert_eq!(
        fixes[0].to_string(),
        "remove 1 rule(s), reorder, route paths /people/* to users"
    );
    // v2's rule goes before its target group.
    let deps = order(&p, &after);
    let pos = |k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    assert!(
        deps[pos(&desired::target_group("v2"))].contains(&pos(&desired::routes("http"))),
        "{}",
        render_text(&p)
    );
    // Priorities moved by a new route are one reorder.
    let mut shifted = converged(&after);
    for o in &mut shifted {
        if let State::Routes(r) = &mut o.state {
            r.rules.reverse();
            let n = r.rules.len() as i32;
            for (i, rule) in r.rules.iter_mut().enumerate() {
                rule.priority = 10 * (n - i as i32);
            }
            r.rules[0].priority = 5;
        }
    }
    let text = render_text(&plan(&after, &shifted));
    assert!(text.contains("reorder"), "{text}");
}

#[test]
fn without_a_default_service_the_listener_answers_404() {
    let only_routed = "
  users: { image: users:1, port: 8080, public: { paths: [/users/*] } }
";
    let want = desired::desired(&parse(only_routed), &facts());
    let Spec::Listener(l) = spec(&want, &desired::listener()) else {
        unreachable!()
    };
    assert_eq!(l.action, aws::listener::Forwarding::NotFound);
    // A stack that had a default service: the listener changes in place.
    let before = desired::desired(
        &parse("\n  users: { image: users:1, port: 8080, public: true }\n"),
        &facts(),
    );
    let text = render_text(&plan(&want, &converged(&before)));
    assert!(text.contains("answer 404 when no rule routes"), "{text}");
}

#[test]
fn with_a_domain_the_rules_are_on_https() {
    let text = "name: demo\ndomain: app.example.com\nservices:\n  web: { image: web:1, port: 8000, public: true }\n  users: { image: users:1, port: 8080, public: { paths: [/api/*] } }\n";
    let stack = config::parse(Path::new("stack.yaml"), text, Path::new("."), None).unwrap();
    let want = desired::desired(&stack, &facts());
    let Spec::Routes(r) = spec(&want, &desired::routes("https")) else {
        unreachable!()
    };
    assert_eq!(r.listener, desired::https_listener());
    assert!(want.iter().all(|d| d.key != desired::routes("http")));
}
