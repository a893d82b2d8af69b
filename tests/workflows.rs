//! GitHub Actions workflows: what `stackctl ci github` writes passes actionlint (with
//! ShellCheck on its scripts) for each shape of repository, names the right roles and keeps a
//! person's edits (this repository's own: tests/release.rs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Run;
use common::actionlint::{actionlint, lint};
use marked_yaml::Node;

/// A repository with a Cargo package at `svc/` and a stack file at `stack_path`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(stack_path: &str, yaml: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("svc/src")).unwrap();
        std::fs::write(
            dir.path().join("svc/Cargo.toml"),
            "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("svc/src/main.rs"), "fn main() {}\n").unwrap();
        let path = dir.path().join(stack_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, yaml).unwrap();
        Repo { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `stackctl ARGS` in `cwd` (relative to the root): no AWS call needed with --account.
    fn stackctl(&self, cwd: &str, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .current_dir(self.root().join(cwd))
            .args(args)
            .env_remove("STACKCTL_ENV")
            .env_remove("STACKCTL_FILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        Run::from(out)
    }

    fn workflows(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.root().join(".github/workflows"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }

    fn yaml(&self, name: &str) -> Node {
        let text =
            std::fs::read_to_string(self.root().join(".github/workflows").join(name)).unwrap();
        marked_yaml::parse_yaml(0, &text).unwrap()
    }
}

/// The scalar at `path` (keys separated by `.`).
fn at(node: &Node, path: &str) -> String {
    let mut n = node;
    for key in path.split('.') {
        n = match n {
            Node::Mapping(m) => m
                .get_node(key)
                .unwrap_or_else(|| panic!("no {key} in {path}")),
            Node::Sequence(s) => s.get_node(key.parse().unwrap()).unwrap(),
            Node::Scalar(_) => panic!("{path}: {key} under a scalar"),
        };
    }
    match n {
        Node::Scalar(s) => s.as_str().to_string(),
        other => panic!("{path} is not a scalar: {other:?}"),
    }
}

fn has(node: &Node, path: &str) -> bool {
    let mut n = node;
    for key in path.split('.') {
        let Some(next) = n.as_mapping().and_then(|m| m.get_node(key)) else {
            return false;
        };
        n = next;
    }
    true
}

const SVC: &str = "services:\n  svc: { build: svc, port: 8080, public: true }\n";

#[test]
fn generated_workflows_pass_actionlint_and_name_their_roles() {
    let Some(bin) = actionlint() else { return };
    struct Case {
        what: &'static str,
        stack_path: &'static str,
        yaml: String,
        cwd: &'static str,
        args: &'static [&'static str],
    }
    let ci = "ci:\n  github: { repository: octo-org/shop }\n";
    let cases = [
        Case {
            what: "the default environment",
            stack_path: "stack.yaml",
            yaml: format!("name: shop\nregion: us-east-2\n{SVC}{ci}"),
            cwd: "",
            args: &[],
        },
        Case {
            what: "an overlay, a GitHub environment, another file name",
            stack_path: "infra.yaml",
            yaml: format!(
                "name: shop\n{SVC}{ci}environments:\n  prod:\n    ci: {{ github: {{ repository: octo-org/shop, branch: release, environment: production }} }}\n"
            ),
            cwd: "",
            args: &["--env", "prod", "--file", "infra.yaml", "--region", "eu-west-1"],
        },
        Case {
            what: "stack.yaml in a subdirectory",
            stack_path: "deploy/stack.yaml",
            yaml: format!(
                "name: shop\nregion: us-east-1\nservices:\n  svc: {{ build: ../svc, port: 8080, public: true }}\n{ci}"
            ),
            cwd: "deploy",
            args: &[],
        },
        Case {
            what: "prebuilt images only, immutable IDs",
            stack_path: "stack.yaml",
            yaml: "name: shop\nregion: us-west-2\nservices:\n  web: { image: public.ecr.aws/nginx/nginx:1, port: 80, public: true }\nci:\n  github: { repository: octo-org@123456/shop@456789 }\n".into(),
            cwd: "",
            args: &[],
        },
    ];
    for case in &cases {
        let repo = Repo::new(case.stack_path, &case.yaml);
        let mut args = vec!["ci", "github", "--account", "123456789012"];
        args.extend(case.args);
        let run = repo.stackctl(case.cwd, &args);
        assert_eq!(run.code, 0, "{}: {}", case.what, run.all());
        let files = repo.workflows();
        assert_eq!(files.len(), 2, "{}: {files:?}", case.what);
        let (ok, said) = lint(&bin, repo.root(), &files);
        assert!(ok, "{}: actionlint:\n{said}", case.what);
        eprintln!("[workflows] {}: actionlint clean", case.what);
    }

    // What each workflow says, on the overlay's case.
    let repo = Repo::new("infra.yaml", &cases[1].yaml);
    let run = repo.stackctl(
        "",
        &[
            "ci",
            "github",
            "--account",
            "123456789012",
            "--env",
            "prod",
            "--file",
            "infra.yaml",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let plan = repo.yaml("stackctl-plan-prod.yml");
    let deploy = repo.yaml("stackctl-deploy-prod.yml");
    assert_eq!(at(&plan, "on.pull_request.branches.0"), "release");
    assert_eq!(at(&deploy, "on.push.branches.0"), "release");
    for w in [&plan, &deploy] {
        assert_eq!(at(w, "permissions.contents"), "read", "no write by default");
        assert!(
            !has(w, "permissions.id-token"),
            "the token only where a job needs it"
        );
    }
    assert_eq!(at(&plan, "jobs.plan.permissions.id-token"), "write");
    assert_eq!(at(&deploy, "jobs.deploy.permissions.id-token"), "write");
    assert_eq!(at(&deploy, "jobs.deploy.needs"), "test");
    assert_eq!(at(&deploy, "jobs.deploy.environment.name"), "production");
    assert_eq!(
        at(&deploy, "jobs.deploy.outputs.url"),
        "${{ steps.up.outputs.url }}"
    );
    assert_eq!(at(&deploy, "concurrency.cancel-in-progress"), "false");
    assert_eq!(
        at(&deploy, "concurrency.group"),
        "stackctl-deploy-shop-prod"
    );
    let text = |name: &str| {
        std::fs::read_to_string(repo.root().join(".github/workflows").join(name)).unwrap()
    };
    let (plan_text, deploy_text) = (
        text("stackctl-plan-prod.yml"),
        text("stackctl-deploy-prod.yml"),
    );
    assert!(deploy_text.contains(
        "role-to-assume: arn:aws:iam::123456789012:role/stackctl-ci/shop/prod/shop-prod-ci-deploy"
    ));
    assert!(plan_text.contains(
        "role-to-assume: arn:aws:iam::123456789012:role/stackctl-ci/shop/prod/shop-prod-ci-plan"
    ));
    assert!(
        !plan_text.contains("ci-deploy"),
        "pull requests never get the deploy role"
    );
    assert!(deploy_text.contains("aws-region: eu-west-1"));
    assert!(deploy_text.contains("stackctl up --env prod --file infra.yaml"));
    assert!(deploy_text.contains(stackctl::ci::CONFIGURE_AWS));
    let install = stackctl::ci::asset(stackctl::ci::VERSION, "$(uname -m)-unknown-linux-musl");
    assert!(deploy_text.contains(&format!("asset=\"{install}\"")));
    assert!(deploy_text.contains(&format!("$BASE/{}", stackctl::ci::CHECKSUMS)));

    // The check is real: a typo in an expression fails it.
    let broken = repo
        .root()
        .join(".github/workflows/stackctl-deploy-prod.yml");
    std::fs::write(
        &broken,
        deploy_text.replace("github.run_id", "github.run_idd"),
    )
    .unwrap();
    let (ok, said) = lint(&bin, repo.root(), &[broken]);
    assert!(!ok && said.contains("run_idd"), "{said}");
}

/// The lines of the `run:` script of the step named `name` in a workflow's text.
fn script(workflow: &str, name: &str) -> String {
    let at = workflow
        .find(&format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no step {name}"));
    let rest = &workflow[at..];
    let body = &rest[rest.find("run: |\n").unwrap() + "run: |\n".len()..];
    body.lines()
        .take_while(|l| l.starts_with("          "))
        .map(|l| format!("{}\n", &l[10..]))
        .collect()
}

#[test]
fn a_refused_token_shows_the_subject_it_carries() {
    use base64::Engine;
    if actionlint().is_none() {
        return;
    }
    let yaml = format!(
        "name: shop\nregion: us-east-1\n{SVC}ci:\n  github: {{ repository: octo-org/shop, environment: production }}\n"
    );
    let repo = Repo::new("stack.yaml", &yaml);
    let run = repo.stackctl("", &["ci", "github", "--account", "123456789012"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let text =
        std::fs::read_to_string(repo.root().join(".github/workflows/stackctl-deploy.yml")).unwrap();
    let script = script(&text, "The token's subject, if the role refused it");
    // GitHub's token endpoint is not here: its reply's token is given instead. The claims
    // are base64url without padding, as in a JWT ("???" encodes to `Pz8_`).
    let (first, rest) = script.split_once('\n').unwrap();
    assert!(first.starts_with("token=\"$(curl "), "{first}");
    let sub = "repo:octo-org@123456/shop@456789:environment:production";
    let claims = serde_json::json!({ "aud": "sts.amazonaws.com", "sub": sub, "x": "???" });
    let encode = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let encoded = encode(claims.to_string().as_bytes());
    assert!(encoded.contains('_') && encoded.len() % 4 != 0, "{encoded}");
    let token = format!("{}.{encoded}.c2ln", encode(br#"{"alg":"RS256"}"#));
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", rest])
        .env("token", &token)
        .env("TRUSTED", "repo:octo-org/shop:environment:production")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("::error::the role trusts sub=repo:octo-org/shop:environment:production, this job's token has sub=repo:octo-org@123456/shop@456789:environment:production"),
        "{said}"
    );
    assert!(!said.contains(&token), "the token itself is never printed");
    // The step runs only when the role refused the token.
    assert!(text.contains("if: failure() && steps.aws.outcome == 'failure'"));
}

#[test]
fn a_package_outside_the_repository_is_refused_with_what_to_do() {
    // app/ is a repository of its own; its service builds ../svc, outside it.
    let repo = Repo::new(
        "app/stack.yaml",
        "name: shop\nregion: us-east-1\nservices:\n  svc: { build: ../svc, port: 8080, public: true }\nci:\n  github: { repository: octo-org/shop }\n",
    );
    std::fs::create_dir_all(repo.root().join("app/.git")).unwrap();
    let run = repo.stackctl("app", &["ci", "github", "--account", "123456789012"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("service `svc` builds")
            && run.stderr.contains("outside the repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: move the package"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all().contains("Error {"),
        "no Debug dump: {}",
        run.all()
    );
    assert!(!repo.root().join("app/.github").exists(), "nothing written");
}

#[test]
fn a_workflow_someone_changed_is_kept_unless_forced() {
    let repo = Repo::new(
        "stack.yaml",
        &format!(
            "name: shop\nregion: us-east-1\n{SVC}ci:\n  github: {{ repository: octo-org/shop }}\n"
        ),
    );
    let args = ["ci", "github", "--account", "123456789012"];
    assert_eq!(repo.stackctl("", &args).code, 0);
    let again = repo.stackctl("", &args);
    assert!(
        again.stdout.contains("stackctl-deploy.yml: unchanged"),
        "{}",
        again.all()
    );
    let path = repo.root().join(".github/workflows/stackctl-deploy.yml");
    let mine = std::fs::read_to_string(&path)
        .unwrap()
        .replace("timeout-minutes: 60", "timeout-minutes: 90 # ours");
    std::fs::write(&path, &mine).unwrap();
    let kept = repo.stackctl("", &args);
    assert_eq!(kept.code, 1, "{}", kept.all());
    assert!(
        kept.all().contains("stackctl-deploy.yml: kept"),
        "{}",
        kept.all()
    );
    assert!(kept.all().contains("--force"), "{}", kept.all());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), mine);
    let forced = repo.stackctl(
        "",
        &["ci", "github", "--account", "123456789012", "--force"],
    );
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(!std::fs::read_to_string(&path).unwrap().contains("# ours"));

    // Without `ci:` there is no role to name: said, with what to add.
    let bare = Repo::new("stack.yaml", &format!("name: shop\n{SVC}"));
    let refused = bare.stackctl("", &args);
    assert_eq!(refused.code, 1);
    assert!(refused.all().contains("has no `ci:`"), "{}", refused.all());
    assert!(
        refused.all().contains("ci: { github: { repository:"),
        "{}",
        refused.all()
    );
}
