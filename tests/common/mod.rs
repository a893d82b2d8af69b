//! Shared harness for tests against the local stand-ins started by scripts/test.sh.
#![allow(dead_code)]

pub mod actionlint;
pub mod arn_scope;
pub mod browser;
pub mod census;
pub mod dataplane;
pub mod discovery;
pub mod enforcing;
pub mod front;
pub mod fronted;
pub mod gate;
pub mod github;
pub mod hammer;
pub mod lb;
pub mod lb_weights;
pub mod pricing;
pub mod rds;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region};
use stackctl::aws::Aws;

/// The moto server's URL, or None (the test is skipped) when run outside scripts/test.sh.
pub fn moto() -> Option<String> {
    match std::env::var("STACKCTL_TEST_MOTO") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_some() => {
            panic!("STACKCTL_TEST_MOTO is not set: run ./scripts/test.sh")
        }
        Err(_) => {
            eprintln!("skipped: no moto server (run ./scripts/test.sh)");
            None
        }
    }
}

/// Where a test's own fault proxy forwards to: moto itself, not the shared ECS emulation in
/// front of it (the test's proxy emulates ECS too, and two emulations would disagree).
pub fn upstream(moto: &str) -> url::Url {
    std::env::var("STACKCTL_TEST_MOTO_DIRECT")
        .unwrap_or_else(|_| moto.to_string())
        .parse()
        .unwrap()
}

/// A fault proxy in front of the shared ECS emulation (so every client of the test sees the
/// same ECS), injecting faults only.
pub fn faults(moto: &str, seed: u64, rate: f64) -> faultproxy::FaultConfig {
    let mut cfg = faultproxy::FaultConfig::new(moto.parse().unwrap(), seed, rate);
    cfg.ecs_emulation = false;
    cfg
}

/// A short unique stack name, so tests share one emulator without seeing each other.
pub fn unique_name() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random_range(0..u32::MAX);
    format!("t{n:08x}")
}

/// A throwaway project directory with a stack.yaml.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub endpoint: String,
}

impl Project {
    /// `services_yaml` is the `services:` block body; `{name}` in it is replaced.
    pub fn new(endpoint: &str, extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let name = unique_name();
        // The real API: `up` builds it (a no-op for cargo once built) and deploys it.
        let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps/api");
        let yaml = format!(
            "name: {name}\nregion: us-east-1\nnetwork: {{ cidr: 10.42.0.0/16, azs: 2 }}\nservices:\n  api:\n    build: {}\n    port: 8080\n    desired: 2\n    health: /status\n    public: true\n    token: true\n{extra}",
            api.display()
        );
        std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
        Project {
            dir,
            name,
            endpoint: endpoint.to_string(),
        }
    }

    /// A stack of `services` (the `services:` block; `{api}` is the API's package directory).
    pub fn with_services(endpoint: &str, services: &str) -> Project {
        let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps/api");
        let services = services.replace("{api}", &api.display().to_string());
        Project::with_stack(
            endpoint,
            &format!(
                "name: {{name}}\nregion: us-east-1\nnetwork: {{ cidr: 10.42.0.0/16, azs: 2 }}\nservices:\n{services}"
            ),
        )
    }

    /// A project whose stack.yaml is `yaml` with `{name}` replaced by a unique stack name.
    pub fn with_stack(endpoint: &str, yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let name = unique_name();
        std::fs::write(dir.path().join("stack.yaml"), yaml.replace("{name}", &name)).unwrap();
        Project {
            dir,
            name,
            endpoint: endpoint.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run stackctl in the project directory against `endpoint` (moto or a proxy in front).
    pub fn run_via(&self, endpoint: &str, args: &[&str]) -> Run {
        Run::from(self.command(endpoint, args).output().unwrap())
    }

    /// stackctl `args` in the project directory against `endpoint`, not started yet.
    pub fn command(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
        cmd.args(args)
            .current_dir(self.path())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("STACKCTL_BACKOFF_SCALE", "0.05")
            // moto has ECR's API but no registry: images go to the local one.
            .env(
                "STACKCTL_REGISTRY_ENDPOINT",
                std::env::var("STACKCTL_TEST_REGISTRY")
                    .map(|r| format!("http://{r}"))
                    .unwrap_or_default(),
            )
            .env_remove("AWS_PROFILE")
            .env_remove("STACKCTL_ENV")
            // Prices from the built-in table, never a cache of the person running the tests.
            .env("XDG_CACHE_HOME", self.path().join(".cache"));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_via(&self.endpoint.clone(), args)
    }

    pub fn stack_file(&self) -> PathBuf {
        self.path().join("stack.yaml")
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stackctl failed:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    /// `(reads, writes)` from the "N AWS calls (R reads, W writes)" line.
    pub fn calls(&self) -> (usize, usize) {
        let all = self.all();
        let line = all
            .lines()
            .rev()
            .find(|l| l.contains("AWS calls ("))
            .unwrap_or_else(|| panic!("no call summary in:\n{all}"));
        let nums: Vec<usize> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let n = nums.len();
        (nums[n - 2], nums[n - 1])
    }
}

/// SDK clients for checking what stackctl did, independently of its own observations.
/// An account that has used ECS before: it has ECS's service-linked role, which `up` creates
/// only where it is missing (once per account). Tests that compare a run's writes with a
/// reference run's take both from this state.
pub async fn account_used_ecs(endpoint: &str) {
    let aws = clients(endpoint).await;
    let created = aws
        .iam
        .create_service_linked_role()
        .aws_service_name("ecs.amazonaws.com")
        .send()
        .await;
    if let Err(e) = created {
        let e = aws_sdk_iam::error::DisplayErrorContext(e).to_string();
        assert!(
            e.contains("EntityAlreadyExists") || e.contains("has been taken"),
            "{e}"
        );
    }
}

pub async fn clients(endpoint: &str) -> Aws {
    clients_as(endpoint, "test", "test").await
}

/// [`clients`] with these credentials (an IAM user's, under IAM enforcement).
pub async fn clients_as(endpoint: &str, key: &str, secret: &str) -> Aws {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            key, secret, None, None, "tests",
        ))
        .load()
        .await;
    Aws::from_conf(&conf).unwrap()
}

/// A Secrets Manager client for `endpoint` (the secrets RDS keeps database passwords in).
pub async fn secrets_manager(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&conf)
}

/// The local PostgreSQL's admin URL, or None (the test is skipped) outside scripts/test.sh.
pub fn postgres() -> Option<String> {
    match std::env::var("STACKCTL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none(),
                "STACKCTL_TEST_POSTGRES_URL is not set: run ./scripts/test.sh"
            );
            None
        }
    }
}

/// The latest ACTIVE revision of the service's task definition.
pub async fn latest(aws: &stackctl::aws::Aws, family: &str) -> aws_sdk_ecs::types::TaskDefinition {
    let out = aws
        .ecs
        .describe_task_definition()
        .task_definition(family)
        .send()
        .await
        .unwrap();
    out.task_definition().unwrap().clone()
}

pub fn timed(p: &Project, args: &[&str]) -> Run {
    let t = std::time::Instant::now();
    let run = p.run(args).ok();
    let (r, w) = run.calls();
    eprintln!(
        "[e2e] stackctl {}: {:.1}s, {r} reads, {w} writes",
        args.join(" "),
        t.elapsed().as_secs_f64()
    );
    run
}

/// An unused loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The services of ECS cluster `cluster` as DescribeServices reports them (none when the
/// cluster is gone).
pub async fn ecs_services(aws: &Aws, cluster: &str) -> Vec<aws_sdk_ecs::types::Service> {
    let Ok(listed) = aws.ecs.list_services().cluster(cluster).send().await else {
        return vec![];
    };
    let arns = listed.service_arns().to_vec();
    if arns.is_empty() {
        return vec![];
    }
    let out = aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(arns))
        .send()
        .await;
    out.map(|o| o.services().to_vec()).unwrap_or_default()
}
