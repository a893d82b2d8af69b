//! Several services against the emulator: one load balancer routing by path, a private
//! service found by name through Cloud Map and reached only from its caller's security group;
//! converged `up` makes no write; dropping the call removes the namespace after ECS has
//! deregistered the tasks; `down` leaves nothing.

mod common;

use common::census::{census, empty, expected};
use common::{Project, clients, latest, moto, timed};

/// web (the default public service) calls users (private); admin is routed by path. All
/// three run the API's image: what is checked here is the wiring, not the apps.
const SERVICES: &str = "  web: { build: {api}, port: 8080, health: /status, public: true, token: true, calls: [users] }
  users: { build: {api}, port: 8081, health: /status, token: true }
  admin: { build: {api}, port: 8082, health: /status, token: true, public: { paths: [/admin, /admin/*] } }
";

fn expected_three() -> common::census::Census {
    let mut c = expected();
    // Two more of everything per service, the rules, the namespace and the registry.
    for (kind, n) in [
        ("sg", 2),
        ("ecr", 2),
        ("logs", 2),
        ("role", 2),
        ("ssm", 2),
        ("taskdef", 2),
        ("service", 2),
        ("tg", 1),
        ("routes", 1),
        ("namespace", 1),
        ("discovery", 1),
    ] {
        *c.get_mut(kind).unwrap() += n;
    }
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_private_names_and_callers_only() {
    let Some(moto) = moto() else { return };
    let p = Project::with_services(&moto, SERVICES);
    let aws = clients(&moto).await;
    let n = p.name.clone();
    let prefix = format!("{n}-default");

    let cold = timed(&p, &["up"]);
    for shown in [
        "+ listener rules",
        "+ private DNS namespace",
        "+ discovery service",
    ] {
        assert!(cold.stdout.contains(shown), "{shown}:\n{}", cold.stdout);
    }
    assert_eq!(census(&moto, &n).await, expected_three());

    // The caller knows the callee by its private name; nobody else is told.
    let web = latest(&aws, &format!("{prefix}-web")).await;
    let env: Vec<_> = web.container_definitions()[0]
        .environment()
        .iter()
        .map(|e| (e.name().unwrap(), e.value().unwrap()))
        .collect();
    let url = format!("http://users.{prefix}.internal:8081");
    assert!(env.contains(&("USERS_URL", url.as_str())), "{env:?}");
    let admin = latest(&aws, &format!("{prefix}-admin")).await;
    let admin_env = admin.container_definitions()[0].environment();
    assert!(admin_env.iter().all(|e| e.name() != Some("USERS_URL")));

    // users' group admits web's, on users' port, and nothing else.
    let groups = aws
        .ec2
        .describe_security_groups()
        .set_filters(Some(common::census::owner(&n)))
        .send()
        .await
        .unwrap();
    let group = |suffix: &str| {
        let name = format!("{prefix}-{suffix}");
        groups
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no group {name}"))
            .clone()
    };
    let (users_sg, web_sg) = (group("svc-users"), group("svc-web"));
    let rules: Vec<_> = users_sg
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.user_id_group_pairs()
                .iter()
                .map(move |g| (p.from_port(), g.group_id().map(str::to_string)))
        })
        .collect();
    assert_eq!(rules, [(Some(8081), web_sg.group_id().map(str::to_string))]);
    assert!(
        users_sg
            .ip_permissions()
            .iter()
            .all(|p| p.ip_ranges().is_empty())
    );

    // ECS registers users' tasks in the Cloud Map service the name resolves through.
    let svcs = aws
        .ecs
        .describe_services()
        .cluster(&prefix)
        .services(format!("{prefix}-users"))
        .send()
        .await
        .unwrap();
    let registry = svcs.services()[0].service_registries()[0]
        .registry_arn()
        .unwrap()
        .to_string();
    let id = registry.rsplit('/').next().unwrap();
    let sd = aws.discovery.get_service().id(id).send().await.unwrap();
    let sd = sd.service().unwrap();
    assert_eq!(sd.name(), Some("users"));
    let ns = aws
        .discovery
        .get_namespace()
        .id(sd.namespace_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ns.namespace().unwrap().name(),
        Some(format!("{prefix}.internal").as_str())
    );

    // One rule on :80 sends /admin to admin; everything else goes to web.
    let lbs = aws
        .elb
        .describe_load_balancers()
        .names(&prefix)
        .send()
        .await
        .unwrap();
    let lb = lbs.load_balancers()[0].load_balancer_arn().unwrap();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap();
    let l = &listeners.listeners()[0];
    let rules = aws
        .elb
        .describe_rules()
        .listener_arn(l.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let own: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].priority(), Some("10"));
    let paths = own[0].conditions()[0]
        .path_pattern_config()
        .unwrap()
        .values();
    assert_eq!(paths, ["/admin", "/admin/*"]);
    let tg = own[0].actions()[0].target_group_arn().unwrap();
    assert!(tg.contains(&format!("targetgroup/{prefix}-admin/")), "{tg}");

    // Converged: reads only.
    let again = timed(&p, &["up"]);
    assert_eq!(again.calls().1, 0, "{}", again.all());

    // web stops calling users: the port closes, ECS stops registering users' tasks, and the
    // registry and namespace go once ECS has deregistered them (ResourceInUse until then).
    let text = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(p.stack_file(), text.replace(", calls: [users]", "")).unwrap();
    let dropped = timed(&p, &["up"]);
    assert!(
        dropped.stdout.contains("- discovery service"),
        "{}",
        dropped.stdout
    );
    let mut after = expected_three();
    *after.get_mut("namespace").unwrap() = 0;
    *after.get_mut("discovery").unwrap() = 0;
    assert_eq!(census(&moto, &n).await, after);

    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &n).await, empty());
}

/// The reply to each write that makes or removes the routing and the private names is lost
/// after AWS committed it, so stackctl retries: `up` still ends with one of each (a namespace
/// made by the lost attempt is taken as the stack's: NamespaceAlreadyExists), and `down`
/// still leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_reply_to_a_routing_or_discovery_write_never_duplicates() {
    let Some(moto) = moto() else { return };
    let cases = [
        (
            "servicediscovery:CreatePrivateDnsNamespace",
            "servicediscovery:DeleteNamespace",
        ),
        (
            "servicediscovery:CreateService",
            "servicediscovery:DeleteService",
        ),
        (
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
        ),
    ];
    let mut failures = Vec::new();
    for (up_action, down_action) in cases {
        let p = Project::with_services(&moto, SERVICES);
        let gate = common::gate::Gate::losing_reply(&moto, up_action, 1).await;
        let up = p.run_via(&gate.url(), &["up"]);
        let plan = p.run(&["plan", "--detailed-exitcode"]);
        let made = census(&moto, &p.name).await;
        if up.code != 0 || plan.code != 0 || made != expected_three() {
            failures.push(format!(
                "{up_action}: {}\n{}\n{}",
                common::census::short(&made),
                plan.stdout,
                up.all()
            ));
        }
        let gate = common::gate::Gate::losing_reply(&moto, down_action, 1).await;
        let down = p.run_via(&gate.url(), &["down", "--yes", "--force-unlock"]);
        let left = census(&moto, &p.name).await;
        if down.code != 0 || left != empty() {
            failures.push(format!(
                "{down_action}: left {}\n{}",
                common::census::short(&left),
                down.all()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
