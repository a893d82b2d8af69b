//! `ci.github` against the emulator: `up` makes GitHub's OIDC provider (once per account) and
//! the two CI roles, whose trust lets in only their repository's jobs (the deploy branch, pull
//! requests) and whose policies are what `stackctl policy --role` prints; `down` removes them,
//! and the provider only once nothing else trusts it.

mod common;

use common::enforcing::printed_parts;
use common::github::{assume, assume_for};
use common::{Project, clients, moto};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

/// `args` in `p`, which must succeed; its time on stderr.
fn step(p: &Project, args: &[&str]) -> common::Run {
    let t = std::time::Instant::now();
    let run = p.run(args);
    assert_eq!(run.code, 0, "{args:?}:\n{}", run.all());
    eprintln!(
        "[ci] {} {args:?}: {:.1}s",
        p.name,
        t.elapsed().as_secs_f64()
    );
    run
}

fn with_ci(moto: &str, repository: &str) -> Project {
    Project::new(
        moto,
        &format!("ci:\n  github: {{ repository: {repository} }}\n"),
    )
}

fn role_arn(p: &Project, role: &str) -> String {
    format!(
        "arn:aws:iam::{ACCOUNT}:role/stackctl-ci/{}/default/{}-default-ci-{role}",
        p.name, p.name
    )
}

/// The ARNs of the managed policies attached to a role, sorted.
async fn attached_arns(aws: &stackctl::aws::Aws, role: &str) -> Vec<String> {
    let out = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect();
    arns.sort();
    arns
}

/// The default versions of the policies attached to a role, in name order.
async fn attached(aws: &stackctl::aws::Aws, role: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    for arn in attached_arns(aws, role).await {
        let v = aws.iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let version = v
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_string();
        let doc = aws
            .iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let text = doc
            .policy_version()
            .unwrap()
            .document()
            .unwrap()
            .to_string();
        let text =
            url::form_urlencoded::parse(format!("d={}", text.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap();
        docs.push(serde_json::from_str(&text).unwrap());
    }
    docs
}

/// The audiences GitHub's provider accepts.
async fn audiences(aws: &stackctl::aws::Aws) -> Vec<String> {
    let got = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER)
        .send()
        .await
        .unwrap();
    assert!(got.thumbprint_list().is_empty(), "no thumbprint");
    got.client_id_list().to_vec()
}

async fn provider_exists(aws: &stackctl::aws::Aws) -> bool {
    let list = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    list.open_id_connect_provider_list()
        .iter()
        .any(|p| p.arn() == Some(PROVIDER))
}

#[tokio::test(flavor = "multi_thread")]
async fn ci_roles_trust_their_repository_only_and_a_provider_outlives_what_uses_it() {
    let Some(moto) = moto() else { return };
    let aws = clients(&moto).await;
    let a = with_ci(&moto, "octo-org/shop");
    let b = with_ci(&moto, "octo-org/shop-admin");

    let up = step(&a, &["up"]);
    assert!(up.all().contains("OIDC provider"), "{}", up.all());
    assert!(provider_exists(&aws).await);
    assert_eq!(audiences(&aws).await, ["sts.amazonaws.com"]);

    // Each role holds exactly what `stackctl policy --role` prints.
    for role in ["deploy", "plan"] {
        let name = format!("{}-default-ci-{role}", a.name);
        assert_eq!(
            attached(&aws, &name).await,
            printed_parts(&a, Some(ACCOUNT), Some(role)),
            "{role}"
        );
    }

    // The trust: this repository's jobs on main deploy, its pull requests plan, nobody else.
    let (deploy, plan) = (role_arn(&a, "deploy"), role_arn(&a, "plan"));
    let main = "repo:octo-org/shop:ref:refs/heads/main";
    let pr = "repo:octo-org/shop:pull_request";
    assert!(assume(&moto, &deploy, main).await.is_ok());
    assert!(assume(&moto, &plan, pr).await.is_ok());
    for (role, subject) in [
        (&deploy, "repo:octo-org/shop:ref:refs/heads/feature"),
        (&deploy, pr),
        (&deploy, "repo:octo-org/shop-fork:ref:refs/heads/main"),
        (&deploy, "repo:octo-org/shop:environment:production"),
        (&plan, main),
        (&plan, "repo:someone/else:pull_request"),
    ] {
        let refused = assume(&moto, role, subject).await.unwrap_err();
        assert!(refused.contains("AccessDenied"), "{subject}: {refused}");
    }
    let wrong_audience = assume_for(&moto, &deploy, main, "sigstore")
        .await
        .unwrap_err();
    assert!(
        wrong_audience.contains("InvalidIdentityToken"),
        "{wrong_audience}"
    );

    // Nothing to do the second time.
    step(&a, &["plan", "--detailed-exitcode"]);

    // A second stack uses the same provider; `down` of the first keeps it for the second.
    let up = step(&b, &["up"]);
    assert!(
        up.all().contains("tag it as used by this stack"),
        "{}",
        up.all()
    );
    step(&a, &["down", "--yes"]);
    assert!(provider_exists(&aws).await, "b's roles still trust it");
    let roles = aws
        .iam
        .list_roles()
        .path_prefix(format!("/stackctl-ci/{}/", a.name));
    assert!(roles.send().await.unwrap().roles().is_empty());
    let policies = aws
        .iam
        .list_policies()
        .path_prefix(format!("/stackctl-ci/{}/", a.name))
        .send()
        .await
        .unwrap();
    assert!(policies.policies().is_empty(), "a's policies are gone");
    let status = b.run(&["status"]);
    assert!(status.all().contains("OIDC provider"), "{}", status.all());

    // b's `down` stops after deleting its CI roles (as one cut short would): nothing trusts
    // the provider any more, a made it, and a is gone; b's tag still says b used it.
    for role in ["deploy", "plan"] {
        drop_role(&aws, &format!("{}-default-ci-{role}", b.name)).await;
    }
    let status = b.run(&["status"]);
    assert!(
        status.all().contains("deleted with the stack's CI roles"),
        "{}",
        status.all()
    );

    // The last stack that used it removes it.
    step(&b, &["down", "--yes"]);
    assert!(!provider_exists(&aws).await, "nothing trusts it any more");

    // The account has one provider per URL: the same test goes on with one made by hand.
    made_outside_stackctl(&moto).await;
}

/// Deletes a role as `down` does: its managed policies detached first.
async fn drop_role(aws: &stackctl::aws::Aws, role: &str) {
    for arn in attached_arns(aws, role).await {
        let detach = aws.iam.detach_role_policy().role_name(role).policy_arn(arn);
        detach.send().await.unwrap();
    }
    aws.iam.delete_role().role_name(role).send().await.unwrap();
}

/// A provider made by hand (or another tool), for another audience: used, given stackctl's
/// audience, and never deleted.
async fn made_outside_stackctl(moto: &str) {
    let aws = clients(moto).await;
    aws.iam
        .create_open_id_connect_provider()
        .url("https://token.actions.githubusercontent.com")
        .client_id_list("sigstore")
        .send()
        .await
        .unwrap();
    let p = with_ci(moto, "octo-org/tools");
    let plan = p.run(&["plan"]);
    assert!(
        plan.all().contains("accept the audience sts.amazonaws.com"),
        "{}",
        plan.all()
    );
    step(&p, &["up"]);
    assert_eq!(audiences(&aws).await, ["sigstore", "sts.amazonaws.com"]);
    let deploy = role_arn(&p, "deploy");
    assert!(
        assume(moto, &deploy, "repo:octo-org/tools:ref:refs/heads/main")
            .await
            .is_ok()
    );
    step(&p, &["down", "--yes"]);
    assert!(provider_exists(&aws).await, "not stackctl's to delete");
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER)
        .send()
        .await
        .unwrap();
}
