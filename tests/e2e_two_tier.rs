//! The two-tier example end to end: `up --file examples/two-tier/stack.yaml` on the stand-ins
//! (moto, the local PostgreSQL playing RDS, podman running both images as ECS would), then a
//! real browser (headless Chromium) uses the web front end: it adds, renames and deletes a user
//! through the form, which web sends to the users API by its private name (resolved through
//! Cloud Map and let through by the security groups), which keeps it in PostgreSQL. With the
//! users API stopped, the page still renders and says so. Then `down` leaves nothing.

mod common;

use std::path::Path;
use std::time::Duration;

use common::browser::Browser;
use common::census::{census, empty};
use common::dataplane::ControlPlane;
use common::rds::Instance;
use common::{Project, moto, postgres, timed};

/// The example as a user has it, with a unique stack name, absolute package paths and
/// database names of its own in the shared PostgreSQL.
fn example() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let yaml = std::fs::read_to_string(root.join("examples/two-tier/stack.yaml")).unwrap();
    assert!(yaml.contains("name: twotier\n") && yaml.contains("../../apps/"));
    let suffix = common::unique_name();
    yaml.replace("name: twotier\n", "name: {name}\n")
        .replace("../../apps/", &format!("{}/apps/", root.display()))
        .replace(
            "  services: [users]",
            &format!("  services: [users]\n  name: d{suffix}\n  user: u{suffix}"),
        )
}

async fn users_listed(url: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .get(format!("{url}users"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_adds_renames_and_deletes_a_user_through_web_and_users() {
    let Some(moto) = moto() else { return };
    let Some(pg) = postgres() else { return };
    if std::env::var_os("STACKCTL_TEST_PODMAN").is_none()
        || std::env::var_os("STACKCTL_TEST_CHROMIUM").is_none()
    {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
        return;
    }
    let p = Project::with_stack(&moto, &example());
    let prefix = format!("{}-default", p.name);
    timed(&p, &["up"]);
    let again = timed(&p, &["up"]);
    assert_eq!(
        again.calls().1,
        0,
        "a converged up writes nothing:\n{}",
        again.all()
    );

    let cp = ControlPlane::new(&moto).await;
    let instance = Instance::attach(&cp, &prefix, &pg).await;
    let users = common::discovery::run(&cp, &prefix, &format!("{prefix}-users"))
        .await
        .unwrap();
    let web = common::discovery::run(&cp, &prefix, &format!("{prefix}-web"))
        .await
        .unwrap();
    assert_eq!(web.hosts[0].0, format!("users.{prefix}.internal"));
    assert!(
        users.task.logs().contains("\"storage\":\"postgres\""),
        "{}",
        users.task.logs()
    );

    let mut b = Browser::launch().await.unwrap();
    // As a visitor with JavaScript off: the pages must work without it (only what this test
    // sends over the DevTools protocol runs).
    b.call(
        "Emulation.setScriptExecutionDisabled",
        serde_json::json!({"value": true}),
    )
    .await
    .unwrap();
    let home = web.task.url();
    b.goto(&home).await.unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("No users yet."), "{text}");
    // Accessible: each field has its label.
    assert_eq!(b.label_of("#id").await.unwrap().trim(), "ID");
    assert_eq!(b.label_of("#name").await.unwrap().trim(), "Name");

    // Add a user: web posts it to users, which keeps it in PostgreSQL.
    b.fill("#id", "1").await.unwrap();
    b.fill("#name", "  Ada Lovelace ").await.unwrap();
    b.submit("form[action='/users'] button").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("Added user 1"), "{text}");
    assert!(text.contains("Ada Lovelace"), "{text}");
    assert_eq!(
        users_listed(&users.task.url()).await["users"],
        serde_json::json!([{"id": 1, "name": "Ada Lovelace"}])
    );

    // The same ID again: users refuses (409) and the page says why, keeping what was typed.
    b.fill("#id", "1").await.unwrap();
    b.fill("#name", "Grace").await.unwrap();
    b.submit("form[action='/users'] button").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("already exists"), "{text}");
    assert_eq!(
        b.eval("document.querySelector('#name').value")
            .await
            .unwrap(),
        "Grace"
    );

    // Rename, then delete.
    b.goto(&format!("{home}users/1/edit")).await.unwrap();
    b.fill("#name", "Ada King").await.unwrap();
    b.submit("form button").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("Ada King") && !text.contains("Ada Lovelace"),
        "{text}"
    );
    let shots = Path::new(&std::env::var("STACKCTL_TEST_STATE").unwrap_or("/tmp".into()))
        .join("two-tier.png");
    b.screenshot(&shots).await.unwrap();
    eprintln!("[e2e] screenshot of the two-tier page: {}", shots.display());
    b.submit("form[action='/users/1/delete'] button")
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("Deleted user 1") && text.contains("No users yet."),
        "{text}"
    );

    // The users API goes away: the page still renders, with the form and the reason.
    users.task.stop();
    drop(users);
    b.goto(&home).await.unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("unavailable"), "{text}");
    assert_eq!(b.label_of("#name").await.unwrap().trim(), "Name");
    drop((b, web));

    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &p.name).await, empty());
    instance.drop_data();
}
