//! End to end: moto (behind the ECS emulation) is the control plane; the real image, pulled
//! from the local registry by digest and run in podman with its secrets from SSM, is the
//! data plane. up → check → call → converged up → rotate → revoke → down → nothing left.

mod common;

use common::census::{census, empty, expected};
use common::dataplane::{ControlPlane, get, run_task};
use common::secrets::secrets;
use common::{Project, latest, moto, timed};

const OK: &str = "devops test server flying!!";

fn service(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_rotate_down_against_the_emulator_and_a_real_container() {
    let Some(moto) = moto() else { return };
    if service("STACKCTL_TEST_PODMAN").is_none() || service("STACKCTL_TEST_REGISTRY").is_none() {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return;
    }
    let p = Project::new(&moto, "");
    let cp = ControlPlane::new(&moto).await;
    let aws = &cp.aws;
    let family = format!("{}-default-api", p.name);

    let up = timed(&p, &["up"]);
    assert!(up.stdout.contains("URL: http://"), "{}", up.stdout);
    assert_eq!(census(&moto, &p.name).await, expected());

    // The task definition: image by digest, the token only as an SSM reference.
    let td = latest(aws, &family).await;
    let c = &td.container_definitions()[0];
    assert!(c.image().unwrap().contains("@sha256:"), "{:?}", c.image());
    let token_arn = format!(
        "arn:aws:ssm:us-east-1:123456789012:parameter/stackctl/{}/default/api/token/1",
        p.name
    );
    let refs: Vec<_> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(refs, [("API_TOKEN", token_arn.as_str())]);
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    assert_eq!(token.len(), 43);
    let env: Vec<_> = c.environment().iter().filter_map(|e| e.value()).collect();
    assert!(
        env.iter().all(|v| !v.contains(&token)),
        "token in environment"
    );
    assert!(!up.all().contains(&token), "token in up's output");
    let hc = c.health_check().unwrap().command();
    assert_eq!(hc, ["CMD", "/api", "healthcheck"]);
    assert_eq!(c.readonly_root_filesystem(), Some(true));
    assert_eq!(c.user(), Some("65532:65532"));
    assert_eq!(
        td.runtime_platform()
            .unwrap()
            .operating_system_family()
            .unwrap()
            .as_str(),
        "LINUX"
    );

    // The service: rolling 100/200 with circuit breaker and rollback, behind the target group.
    let svcs = aws
        .ecs
        .describe_services()
        .cluster(format!("{}-default", p.name))
        .services(&family)
        .send()
        .await
        .unwrap();
    let s = &svcs.services()[0];
    let dc = s.deployment_configuration().unwrap();
    assert_eq!(
        (dc.minimum_healthy_percent(), dc.maximum_percent()),
        (Some(100), Some(200))
    );
    let cb = dc.deployment_circuit_breaker().unwrap();
    assert!(cb.enable() && cb.rollback());
    let vpc = s
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(vpc.assign_public_ip().unwrap().as_str(), "ENABLED");
    let tg_arn = s.load_balancers()[0].target_group_arn().unwrap();
    let tgs = aws
        .elb
        .describe_target_groups()
        .target_group_arns(tg_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tgs.target_groups()[0].health_check_path(), Some("/status"));

    // What was deployed works: the digest from the registry, the token from SSM.
    let task = run_task(&cp, td.task_definition_arn().unwrap()).await;
    assert_eq!(get(&task.url(), &token).await, (200, OK.into()));
    assert_eq!(get(&task.url(), "wrong").await.0, 401);
    assert!(task.healthy(), "the container health check fails");

    // Converged: reads only.
    let again = timed(&p, &["up"]);
    assert_eq!(again.calls().1, 0, "{}", again.all());

    // Rotation: a new revision accepting the new token and (as previous) the old one.
    let rotated = timed(&p, &["rotate-token", "--show"]);
    let new = rotated.stdout.trim().to_string();
    assert_eq!(
        new.lines().count(),
        1,
        "only the token on stdout: {}",
        rotated.stdout
    );
    assert_ne!(new, token);
    assert!(!rotated.stderr.contains(&new), "token in progress output");
    let td2 = latest(aws, &family).await;
    assert_eq!(td2.revision(), td.revision() + 1);
    let task2 = run_task(&cp, td2.task_definition_arn().unwrap()).await;
    assert_eq!(get(&task2.url(), &new).await.0, 200);
    assert_eq!(
        get(&task2.url(), &token).await.0,
        200,
        "previous token still accepted"
    );
    assert_eq!(p.run(&["token"]).ok().stdout.trim(), new);

    // Revocation: only the newest works, and no older revision can bring a token back.
    let revoked = timed(&p, &["rotate-token", "--revoke-previous", "--show"]);
    let newest = revoked.stdout.trim().to_string();
    let td3 = latest(aws, &family).await;
    let task3 = run_task(&cp, td3.task_definition_arn().unwrap()).await;
    assert_eq!(get(&task3.url(), &newest).await.0, 200);
    assert_eq!(
        get(&task3.url(), &new).await.0,
        401,
        "revoked token accepted"
    );
    assert_eq!(get(&task3.url(), &token).await.0, 401);
    for old in [&td, &td2] {
        let refs = secrets(&cp, old.task_definition_arn().unwrap()).await;
        assert!(
            refs.is_err(),
            "a rollback to {:?} could start",
            old.revision()
        );
    }
    drop((task, task2, task3));

    // A prebuilt image (`image:`) is resolved to its digest and deployed as is: no build,
    // no ECR repository of its own.
    let tagged = c.image().unwrap().split('@').next().unwrap().to_string();
    let digest = c.image().unwrap().split('@').nth(1).unwrap().to_string();
    let q = Project::new(&moto, "");
    std::fs::write(
        q.stack_file(),
        format!(
            "name: {}\nregion: us-east-1\nnetwork: {{ cidr: 10.43.0.0/16, azs: 2 }}\nservices:\n  api:\n    image: {tagged}@{digest}\n    port: 8080\n    health: /status\n    public: true\n",
            q.name
        ),
    )
    .unwrap();
    let prebuilt = q.run(&["up"]).ok();
    assert!(
        !prebuilt.all().contains("build image api: compiling"),
        "{}",
        prebuilt.all()
    );
    let qtd = latest(aws, &format!("{}-default-api", q.name)).await;
    let qc = &qtd.container_definitions()[0];
    assert_eq!(qc.image(), Some(format!("{tagged}@{digest}").as_str()));
    assert!(qc.secrets().is_empty(), "no token configured");
    assert_eq!(census(&moto, &q.name).await["ecr"], 0);
    q.run(&["down", "--yes"]).ok();

    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &p.name).await, empty());
}
