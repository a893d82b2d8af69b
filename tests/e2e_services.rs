//! Two services end to end: `users` private, `web` calling it by name. The data plane runs a
//! task of each (the API's image: the wiring is what is checked here) and resolves `users`'
//! private name for `web` only through Cloud Map and the security groups in the emulator: the
//! call reaches `users`' task; with the rule revoked by hand it is dropped; `up` puts the rule
//! back and the call goes through again.

mod common;

use common::census::{census, empty};
use common::dataplane::{ControlPlane, get};
use common::discovery::{self, Refused, Route};
use common::{Project, moto, timed};

const OK: &str = "devops test server flying!!";

const SERVICES: &str = "  web: { build: {api}, port: 8080, health: /status, public: true, token: true, calls: [users] }
  users: { build: {api}, port: 8081, health: /status, token: true }
";

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_reaches_its_callee_by_name_only_while_the_groups_allow_it() {
    let Some(moto) = moto() else { return };
    if std::env::var_os("STACKCTL_TEST_PODMAN").is_none() {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return;
    }
    let p = Project::with_services(&moto, SERVICES);
    let prefix = format!("{}-default", p.name);
    timed(&p, &["up"]);
    let cp = ControlPlane::new(&moto).await;
    let users_token = p.run(&["token", "users"]).ok().stdout.trim().to_string();
    let web_token = p.run(&["token", "web"]).ok().stdout.trim().to_string();

    let users = discovery::run(&cp, &prefix, &format!("{prefix}-users"))
        .await
        .unwrap();
    assert!(users.hosts.is_empty(), "users calls nobody");
    let web = discovery::run(&cp, &prefix, &format!("{prefix}-web"))
        .await
        .unwrap();
    let host = format!("users.{prefix}.internal");
    let (name, address) = web.hosts.first().expect("web resolves users").clone();
    assert_eq!(name, host);

    // What web's USERS_URL reaches is users' task: its token, not web's, is accepted.
    let url = format!("http://{address}:8081/");
    assert_eq!(get(&url, &users_token).await, (200, OK.into()));
    assert_eq!(get(&url, &web_token).await.0, 401);
    assert_eq!(get(&web.task.url(), &web_token).await, (200, OK.into()));

    // Someone revokes the rule: the VPC drops web's calls.
    let aws = &cp.aws;
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(format!("{prefix}-svc-users"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let users_sg = groups.security_groups()[0].clone();
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(users_sg.group_id().unwrap())
        .set_ip_permissions(Some(users_sg.ip_permissions().to_vec()))
        .send()
        .await
        .unwrap();
    let route = Route {
        cluster: prefix.clone(),
        caller: format!("{prefix}-web"),
        host: host.clone(),
        port: 8081,
    };
    let refused = discovery::resolve(aws, &cp.running, &route).await;
    assert!(matches!(refused, Err(Refused::Blocked(_))), "{refused:?}");
    let cut = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(cut.is_err(), "the call went through a revoked rule");

    // `up` sees the drift and puts the rule back.
    let fixed = timed(&p, &["up"]);
    assert!(fixed.stdout.contains("sg/svc-users"), "{}", fixed.stdout);
    assert_eq!(get(&url, &users_token).await, (200, OK.into()));

    // A name no service registers does not resolve.
    let nobody = Route {
        host: format!("orders.{prefix}.internal"),
        ..route
    };
    let unknown = discovery::resolve(aws, &cp.running, &nobody).await;
    assert!(
        matches!(unknown, Err(Refused::NoSuchHost(_))),
        "{unknown:?}"
    );

    drop((web, users));
    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &p.name).await, empty());
}
