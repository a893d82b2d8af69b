//! The CI roles under IAM enforcement (a moto of the test's own): GitHub's token for the deploy
//! branch gets the deploy role, which deploys a change to this stack, and nothing more: every
//! call it makes is allowed by its scoped policy and would not be on another stack's
//! resources; it cannot change who may deploy, nor tear the stack down. The plan role plans
//! and reads no secret. An administrator holding `stackctl policy` makes and removes it all.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::arn_scope::{ACCOUNT, check_scopes_from, ec2_tags};
use common::enforcing::{enforce, own_moto, printed_policy, user};
use common::github::{Session, as_session, assume};
use common::{Project, Run, clients, moto};
use faultproxy::{FaultConfig, Proxy};

const MAIN: &str = "repo:octo-org/shop:ref:refs/heads/main";
const PULL_REQUEST: &str = "repo:octo-org/shop:pull_request";

fn run_as(p: &Project, endpoint: &str, s: &Session, args: &[&str]) -> Run {
    let t = Instant::now();
    let mut cmd = p.command(endpoint, args);
    let run = Run::from(as_session(&mut cmd, s).output().unwrap());
    eprintln!(
        "[iam-ci] {args:?}: exit {} in {:.1}s",
        run.code,
        t.elapsed().as_secs_f64()
    );
    run
}

/// Whether an API action only reads (what a refused run may still call).
fn is_read(action: &str) -> bool {
    ["Describe", "List", "Get", "BatchGet"]
        .iter()
        .any(|p| action.starts_with(p))
}

/// A CI role's `up` stopped before any change, saying why.
fn refused_early(run: &Run, said: &str) {
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.all().contains(said), "{}", run.all());
    assert!(run.all().contains("nothing was changed"), "{}", run.all());
}

fn refused(run: &Run, action: &str) {
    assert_ne!(run.code, 0, "{}", run.all());
    eprintln!("[iam-ci] refused:\n{}", run.stderr);
    assert!(
        run.all()
            .contains(&format!("not authorized to perform: {action}")),
        "expected a refusal of {action}:\n{}",
        run.all()
    );
    assert!(
        run.all().contains("this is the CI"),
        "the hint says which role it is:\n{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_role_deploys_this_stack_and_nothing_more() {
    if moto().is_none() {
        return;
    }
    let moto = own_moto().await;
    let mut cfg = FaultConfig::new(moto.url.parse().unwrap(), 0, 0.0);
    cfg.journal = true;
    let proxy = Proxy::start(cfg).await.unwrap();
    let endpoint = proxy.url();
    let p = Project::new(&endpoint, "ci:\n  github: { repository: octo-org/shop }\n");
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();

    // Before enforcement: an administrator holding only `stackctl policy`, and someone who may
    // assume any role that trusts them.
    let admin = clients(&moto.url).await;
    let keys = user(
        &admin,
        "administrator",
        printed_policy(&p, Some(ACCOUNT), None).to_string(),
    )
    .await;
    let outsider = user(
        &admin,
        "outsider",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#.into(),
    )
    .await;
    enforce(&moto.url).await;
    let admin = Session(keys.0.clone(), keys.1.clone(), None);
    let up = run_as(&p, &endpoint, &admin, &["up"]);
    assert_eq!(up.code, 0, "up as the administrator:\n{}", up.all());
    let mut ec2 = BTreeMap::new();
    ec2_tags(&endpoint, &keys, &mut ec2).await;

    // GitHub's token for a push to main: the deploy role, which deploys a change.
    let deploy_arn = format!(
        "arn:aws:iam::{ACCOUNT}:role/stackctl-ci/{0}/default/{0}-default-ci-deploy",
        p.name
    );
    let plan_arn = deploy_arn.replace("ci-deploy", "ci-plan");
    let deploy = assume(&moto.url, &deploy_arn, MAIN).await.unwrap();
    let changed = yaml.replace("desired: 2", "desired: 3");
    // A change that adds a service (its role bounded), then one that removes it again.
    let build = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("build: "))
        .unwrap();
    let admin_service = format!(
        "services:\n  admin: {{ build: {build}, port: 8082, health: /status, token: true, public: {{ paths: [/admin, /admin/*] }} }}\n"
    );
    let aws = common::clients_as(&moto.url, &keys.0, &keys.1).await;
    let cluster = format!("{}-default", p.name);
    for (yaml, services) in [
        (changed.replace("services:\n", &admin_service), 2),
        (changed, 1),
    ] {
        std::fs::write(p.stack_file(), yaml).unwrap();
        let start = proxy.journal().len();
        let up = run_as(&p, &endpoint, &deploy, &["up"]);
        assert_eq!(up.code, 0, "up as the deploy role:\n{}", up.all());
        let running = common::ecs_services(&aws, &cluster).await;
        let active = running.iter().filter(|s| s.status() == Some("ACTIVE"));
        assert_eq!(active.count(), services, "{}", up.all());
        let journal = proxy.journal();
        eprintln!(
            "[iam-ci] the deploy role's up to {services} service(s): {} calls",
            journal.len() - start
        );
        ec2_tags(&endpoint, &keys, &mut ec2).await;
        check_scopes_from(
            &journal,
            start,
            &printed_policy(&p, Some(ACCOUNT), Some("deploy")),
            &p.name,
            &ec2,
        );
    }
    let services = common::ecs_services(&aws, &cluster).await;
    let api = services
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .unwrap();
    assert_eq!(api.desired_count(), 3);
    let checked = run_as(&p, &endpoint, &deploy, &["status"]);
    assert_eq!(checked.code, 0, "{}", checked.all());
    escalation(&moto.url, &p, &deploy, &outsider, &admin).await;

    // It cannot change who may deploy: a new branch is a change only an administrator makes.
    let moved = yaml.replace(
        "repository: octo-org/shop",
        "repository: octo-org/shop, branch: release",
    );
    std::fs::write(p.stack_file(), &moved).unwrap();
    let before = proxy.journal().len();
    refused_early(
        &run_as(&p, &endpoint, &deploy, &["up"]),
        "the CI deploy role cannot make 1 of these changes: update IAM role",
    );
    let writes: Vec<String> = proxy.journal()[before..]
        .iter()
        .filter(|c| !is_read(&c.action))
        .map(|c| format!("{}:{}", c.service, c.action))
        .collect();
    assert!(writes.is_empty(), "refused before any write: {writes:?}");
    let up = run_as(&p, &endpoint, &admin, &["up"]);
    assert_eq!(up.code, 0, "{}", up.all());
    // The old subject is out, the new one in.
    assert!(assume(&moto.url, &deploy_arn, MAIN).await.is_err());
    let deploy = assume(
        &moto.url,
        &deploy_arn,
        "repo:octo-org/shop:ref:refs/heads/release",
    )
    .await
    .unwrap();

    // A pull request plans, and reads no secret.
    let plan = assume(&moto.url, &plan_arn, PULL_REQUEST).await.unwrap();
    let planned = run_as(&p, &endpoint, &plan, &["plan"]);
    assert_eq!(planned.code, 0, "plan as the plan role:\n{}", planned.all());
    refused(
        &run_as(&p, &endpoint, &plan, &["token", "api"]),
        "ssm:GetParameter",
    );
    std::fs::write(p.stack_file(), moved.replace("desired: 2", "desired: 4")).unwrap();
    refused_early(
        &run_as(&p, &endpoint, &plan, &["up"]),
        "the CI plan role cannot make 1 of these changes",
    );
    std::fs::write(p.stack_file(), &moved).unwrap();

    // Nor can the deploy role tear the stack down; the administrator can, provider included.
    let down = run_as(&p, &endpoint, &deploy, &["down", "--yes"]);
    assert_ne!(down.code, 0, "{}", down.all());
    assert!(down.all().contains("not authorized"), "{}", down.all());
    let down = run_as(&p, &endpoint, &admin, &["down", "--yes"]);
    assert_eq!(down.code, 0, "down as the administrator:\n{}", down.all());
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert!(providers.open_id_connect_provider_list().is_empty());
    proxy.shutdown().await;
}

/// What someone holding the deploy role's credentials (a workflow on the deploy branch) can do
/// to the stack's roles: write them only within the stack's boundary, which nothing of theirs
/// can lift; a role they make and give AdministratorAccess can still do only what the
/// boundary allows.
async fn escalation(
    moto: &str,
    p: &Project,
    deploy: &Session,
    outsider: &(String, String),
    admin: &Session,
) {
    let aws = common::github::clients(moto, deploy).await;
    let iam = &aws.iam;
    let boundary = format!(
        "arn:aws:iam::{ACCOUNT}:policy/stackctl-ci/{0}/default/{0}-default-ci-boundary",
        p.name
    );
    let admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess";
    let denied = |r: Result<(), String>, what: &str| {
        let e = r.expect_err(what);
        assert!(e.contains("AccessDenied"), "{what}: {e}");
        eprintln!("[iam-ci] the deploy role may not {what}");
    };
    let path = format!("/stackctl/{}/default/", p.name);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/outsider"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let create = |name: &'static str, b: Option<String>| {
        iam.create_role()
            .role_name(format!("{}-default-{name}", p.name))
            .path(&path)
            .assume_role_policy_document(&trust)
            .set_permissions_boundary(b)
            .send()
    };
    denied(
        create("free", None).await.map(|_| ()).map_err(shown),
        "make a role of the stack without its boundary",
    );
    denied(
        create("admin", Some(admin_policy.into()))
            .await
            .map(|_| ())
            .map_err(shown),
        "make a role of the stack with another boundary",
    );
    let exec = format!("{}-default-exec", p.name);
    denied(
        iam.put_role_permissions_boundary()
            .role_name(&exec)
            .permissions_boundary(admin_policy)
            .send()
            .await
            .map(|_| ())
            .map_err(shown),
        "move the execution role's boundary",
    );
    denied(
        iam.update_assume_role_policy()
            .role_name(&exec)
            .policy_document(&trust)
            .send()
            .await
            .map(|_| ())
            .map_err(shown),
        "let someone else act as the execution role",
    );
    denied(
        iam.delete_role_permissions_boundary()
            .role_name(&exec)
            .send()
            .await
            .map(|_| ())
            .map_err(shown),
        "lift the execution role's boundary",
    );
    // Within the boundary it may: a role, AdministratorAccess on it, trusted by an outsider.
    let role = create("escalate", Some(boundary.clone())).await.unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    iam.attach_role_policy()
        .role_name(format!("{}-default-escalate", p.name))
        .policy_arn(admin_policy)
        .send()
        .await
        .unwrap();
    // What that role can do: what the boundary allows, no more.
    let sts = common::clients_as(moto, &outsider.0, &outsider.1).await.sts;
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("outsider")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let as_role = Session(
        c.access_key_id().into(),
        c.secret_access_key().into(),
        Some(c.session_token().into()),
    );
    let bounded = common::github::clients(moto, &as_role).await;
    let made = bounded.iam.create_user().user_name("backdoor").send().await;
    denied(
        made.map(|_| ()).map_err(shown),
        "act beyond the boundary through a role it made (iam:CreateUser)",
    );
    let param = format!("/stackctl/{}/default/api/token/1", p.name);
    let read = bounded.ssm.get_parameter().name(&param).send().await;
    assert!(
        read.is_ok(),
        "the boundary allows what the stack's tasks do: {read:?}"
    );
    // stackctl does not know that role: the administrator removes it (IAM would refuse to
    // delete the boundary while a role uses it).
    let admin = common::github::clients(moto, admin).await;
    let escalate = format!("{}-default-escalate", p.name);
    let detach = admin
        .iam
        .detach_role_policy()
        .role_name(&escalate)
        .policy_arn(admin_policy);
    detach.send().await.unwrap();
    admin
        .iam
        .delete_role()
        .role_name(&escalate)
        .send()
        .await
        .unwrap();
}

fn shown<E: std::error::Error + 'static>(e: E) -> String {
    aws_sdk_iam::error::DisplayErrorContext(e).to_string()
}
