//! End to end with a database: moto's RDS and Secrets Manager are the control plane, the local
//! PostgreSQL plays the instance (tests/common/rds.rs) and the real image runs in podman with
//! the connection from its task definition, the user and password from the secret RDS keeps.
//! Two tasks share the payments; a replaced task keeps them; after a password rotation the
//! tasks stop and the next ones read the new secret; `down` keeps a final snapshot and nothing
//! else; `up` from that snapshot brings the payments back.

mod common;

use std::time::{Duration, Instant};

use common::census::{census, empty, expected_with_database};
use common::dataplane::{ControlPlane, Task, run_task};
use common::rds::Instance;
use common::{Project, latest, moto, postgres, timed};

/// `method path` on a task with the token: (status, body).
async fn call(task: &Task, token: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("{}{}", task.url(), &path[1..]),
        )
        .header("Authorization", format!("Token {token}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The ids of the payments a task lists.
async fn listed(task: &Task, token: &str) -> Vec<i64> {
    let (status, body) = call(task, token, "GET", "/v1/payments", "").await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = json["payments"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of payments: {body}"));
    items.iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

/// What the load balancer's health checks do to a task whose database refused it: they keep
/// asking (`/status` checks the database) until it stops. The exit code, and how long it took.
async fn health_checked_until_it_stops(task: &Task, within: Duration) -> (String, Duration) {
    let t = Instant::now();
    let client = reqwest::Client::new();
    while t.elapsed() < within {
        let _ = client
            .get(format!("{}status", task.url()))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Some(code) = task.wait_exit(Duration::from_millis(300)) {
            return (code, t.elapsed());
        }
    }
    panic!(
        "the task still runs {within:?} after the rotation:\n{}",
        task.logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn payments_are_shared_kept_and_survive_rotation_down_and_up_from_the_snapshot() {
    let Some(moto) = moto() else { return };
    let Some(pg) = postgres() else { return };
    if std::env::var_os("STACKCTL_TEST_PODMAN").is_none()
        || std::env::var_os("STACKCTL_TEST_REGISTRY").is_none()
    {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return;
    }
    // Names of their own in the shared PostgreSQL.
    let suffix = common::unique_name();
    let database = format!(
        "database:\n  version: \"18\"\n  services: [api]\n  name: d{suffix}\n  user: u{suffix}\n"
    );
    let p = Project::new(&moto, &database);
    let cp = ControlPlane::new(&moto).await;
    let id = format!("{}-default", p.name);
    let family = format!("{}-default-api", p.name);

    let up = timed(&p, &["up"]);
    assert_eq!(census(&moto, &p.name).await, expected_with_database());
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let instance = Instance::attach(&cp, &id, &pg).await;
    let td = latest(&cp.aws, &family).await;
    let arn = td.task_definition_arn().unwrap();

    // Two tasks, one database: what one stores the other lists, over TLS only.
    let a = run_task(&cp, arn).await;
    let b = run_task(&cp, arn).await;
    let (status, body) = call(
        &a,
        &token,
        "POST",
        "/v1/payments",
        r#"{"data":{"order":"A-1"},"payment":"12.34"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let paid: serde_json::Value = serde_json::from_str(&body).unwrap();
    let paid = paid["id"].as_i64().unwrap();
    assert_eq!(listed(&b, &token).await, [paid]);
    assert!(instance.sessions_encrypted(), "a session without TLS");
    let password = {
        let s = cp
            .secrets
            .get_secret_value()
            .secret_id(&instance.secret_arn)
            .send()
            .await
            .unwrap();
        let j: serde_json::Value = serde_json::from_str(s.secret_string().unwrap()).unwrap();
        j["password"].as_str().unwrap().to_string()
    };
    for task in [&a, &b] {
        assert!(
            !task.logs().contains(&password),
            "the password is in a task's logs"
        );
    }
    assert!(
        !up.all().contains(&password),
        "the password is in up's output"
    );

    // A task replaced (as ECS replaces an unhealthy one) finds the same payments.
    a.stop();
    drop(a);
    let c = run_task(&cp, arn).await;
    assert_eq!(listed(&c, &token).await, [paid]);

    // RDS rotates the password. The running tasks stop once their sessions end; the next
    // tasks read the new secret and serve the same payments.
    instance.rotate(&cp, true).await;
    for task in [&b, &c] {
        let (code, took) = health_checked_until_it_stops(task, Duration::from_secs(60)).await;
        assert_eq!(code, "1", "{}", task.logs());
        assert!(
            task.logs().contains("refused the password"),
            "{}",
            task.logs()
        );
        eprintln!(
            "[e2e] a task stopped {:.1}s after the rotation",
            took.as_secs_f64()
        );
    }
    drop((b, c));
    let d = run_task(&cp, arn).await;
    assert_eq!(listed(&d, &token).await, [paid]);
    drop(d);

    // `down` keeps a final snapshot; nothing else is left.
    let down = timed(&p, &["down", "--yes"]);
    let kept = down
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Kept the database's final snapshot "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no snapshot named:\n{}", down.all()))
        .to_string();
    assert_eq!(census(&moto, &p.name).await, empty(), "after down");
    drop(instance);

    // `up` from that snapshot: the payments are back.
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(p.stack_file(), format!("{yaml}  snapshot: {kept}\n")).unwrap();
    timed(&p, &["up"]);
    assert_eq!(census(&moto, &p.name).await, expected_with_database());
    let restored = Instance::attach(&cp, &id, &pg).await;
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let td = latest(&cp.aws, &family).await;
    let e = run_task(&cp, td.task_definition_arn().unwrap()).await;
    assert_eq!(listed(&e, &token).await, [paid]);
    drop(e);

    timed(&p, &["down", "--yes"]);
    assert_eq!(
        census(&moto, &p.name).await,
        empty(),
        "after the second down"
    );
    restored.drop_data();
}
