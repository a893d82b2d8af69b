//! The data plane moto does not have: runs a registered task definition's container in
//! podman exactly as Fargate (platform 1.4) would, so that a task definition Fargate cannot
//! start does not start here either:
//! - the image by digest from the registry, as the container's `user`;
//! - a read-only root with nothing writable but the task's volumes (podman's `--read-only`
//!   alone would add a writable /tmp; Fargate does not);
//! - each volume an empty directory owned by root, mode 0755, unless the image declares the
//!   path a `VOLUME`: then the image's directory is copied in, owner and mode included (ECS
//!   developer guide, "Use bind mounts with Amazon ECS"; aws/containers-roadmap#938);
//! - environment, and secrets resolved by the ARNs in the task definition ([`super::secrets`]);
//! - the names of the RDS instances the data plane runs ([`super::rds`]) resolving to them.
//! - the container health check (`healthy`), and `stopTimeout` between SIGTERM and SIGKILL.
//!
//! Host networking: each task gets its own PORT.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use std::sync::Mutex;

use aws_sdk_ecs::types::ContainerDefinition;
use stackctl::aws::Aws;

use super::secrets::resolve;

/// What a task reads when it starts: the emulated control plane (moto), and the host names the
/// data plane answers for (an RDS endpoint's address → the loopback address serving it).
pub struct ControlPlane {
    pub aws: std::sync::Arc<Aws>,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub hosts: Mutex<Vec<(String, String)>>,
    /// The tasks started for an ECS service ([`super::discovery::run`]), by service name.
    pub running: super::discovery::Running,
}

impl ControlPlane {
    pub async fn new(endpoint: &str) -> ControlPlane {
        ControlPlane {
            aws: std::sync::Arc::new(super::clients(endpoint).await),
            secrets: super::secrets_manager(endpoint).await,
            hosts: Mutex::new(Vec::new()),
            running: Default::default(),
        }
    }

    pub fn aws_handle(&self) -> std::sync::Arc<Aws> {
        self.aws.clone()
    }
}

/// Fargate's default when the task definition sets none.
const DEFAULT_STOP_TIMEOUT: i32 = 30;

/// A running task; removed when dropped.
pub struct Task {
    pub name: String,
    pub port: u16,
    pub health_command: Vec<String>,
    stop_timeout: i32,
    _volumes: tempfile::TempDir,
    /// The ECS service it was started for, in the running tasks it leaves when dropped.
    pub(crate) service: Option<(super::discovery::Running, String)>,
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some((running, name)) = &self.service {
            let mut running = running.lock().unwrap();
            running
                .entry(name.clone())
                .or_default()
                .retain(|p| *p != self.port);
        }
        let _ = Command::new("podman")
            .args(["rm", "--force", "--time", "0", &self.name])
            .output();
    }
}

impl Task {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
    /// Runs the container health check ECS would run (`CMD …` inside the container).
    pub fn healthy(&self) -> bool {
        let cmd = &self.health_command;
        assert_eq!(cmd.first().map(String::as_str), Some("CMD"), "{cmd:?}");
        Command::new("podman")
            .args(["exec", &self.name])
            .args(&cmd[1..])
            .status()
            .is_ok_and(|s| s.success())
    }
    /// The container's exit code once it has stopped by itself, waiting up to `timeout`.
    pub fn wait_exit(&self, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            let state = podman(&[
                "inspect",
                "--format",
                "{{.State.Running}} {{.State.ExitCode}}",
                &self.name,
            ])
            .ok()?;
            if let Some(code) = state.strip_prefix("false ") {
                return Some(code.to_string());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }
    /// The container's output so far.
    pub fn logs(&self) -> String {
        let out = Command::new("podman")
            .args(["logs", &self.name])
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
    /// SIGTERM, as ECS stops a task, then SIGKILL after the task definition's `stopTimeout`.
    /// Returns the exit code (137: it had to be killed).
    pub fn stop(&self) -> String {
        let _ = Command::new("podman")
            .args(["stop", "--time", &self.stop_timeout.to_string(), &self.name])
            .output();
        let out = Command::new("podman")
            .args(["inspect", "--format", "{{.State.ExitCode}}", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The task definition's (only) container.
pub(crate) async fn container(aws: &Aws, task_definition: &str) -> ContainerDefinition {
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(task_definition)
        .send()
        .await
        .unwrap();
    td.task_definition().unwrap().container_definitions()[0].clone()
}

/// Starts a task of `task_definition` and waits until it answers.
pub async fn run_task(cp: &ControlPlane, task_definition: &str) -> Task {
    try_run_task(cp, task_definition).await.unwrap()
}

/// [`run_task`], or why the task did not start or answer.
pub async fn try_run_task(cp: &ControlPlane, task_definition: &str) -> Result<Task, String> {
    let c = &container(&cp.aws, task_definition).await;
    let secrets = resolve(cp, c).await?;
    let hosts = cp.hosts.lock().unwrap().clone();
    start_with_hosts(c, &secrets, &hosts).await
}

fn podman(args: &[&str]) -> Result<String, String> {
    let out = Command::new("podman")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "podman {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Fills `volume` (a fresh root-owned 0755 directory) for `container_path` as Fargate does:
/// a copy of the image's directory if the image declares the path a volume, else nothing.
fn fill_volume(image: &str, container_path: &str, volume: &Path) -> Result<(), String> {
    let declared: serde_json::Value = serde_json::from_str(&podman(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Volumes}}",
        image,
    ])?)
    .unwrap_or_default();
    if declared.get(container_path).is_none() {
        return Ok(());
    }
    let root = podman(&["image", "mount", image])?;
    let source = Path::new(&root).join(container_path.trim_start_matches('/'));
    let copied = (|| {
        let meta = std::fs::metadata(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let ok = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", source.display()))
            .arg(volume)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err(format!("copying {} failed", source.display()));
        }
        std::os::unix::fs::chown(volume, Some(meta.uid()), Some(meta.gid()))
            .map_err(|e| e.to_string())?;
        std::fs::set_permissions(
            volume,
            std::fs::Permissions::from_mode(meta.mode() & 0o7777),
        )
        .map_err(|e| e.to_string())
    })();
    let _ = podman(&["image", "unmount", image]);
    copied
}

/// Starts `c` with `secrets` (name, value) the way Fargate would, and waits until it answers
/// on `/status`. Err (with the container's output) if it exits instead, as a task whose
/// container cannot start does.
pub async fn start(c: &ContainerDefinition, secrets: &[(String, String)]) -> Result<Task, String> {
    start_with_hosts(c, secrets, &[]).await
}

/// [`start`], with `hosts` (name, address) in the container's /etc/hosts: the names the data
/// plane answers for, as the VPC's DNS would.
pub async fn start_with_hosts(
    c: &ContainerDefinition,
    secrets: &[(String, String)],
    hosts: &[(String, String)],
) -> Result<Task, String> {
    let image = c.image().ok_or("no image")?;
    podman(&["pull", "--quiet", image])?;
    let port = super::free_port();
    let name = format!("stackctl-task-{}-{port}", std::process::id());
    let volumes = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut cmd = Command::new("podman");
    cmd.args(["run", "--detach", "--name", &name]);
    // Values go through podman's environment, never its command line.
    for kv in c.environment() {
        let (k, v) = (kv.name().unwrap(), kv.value().unwrap());
        if k != "PORT" {
            cmd.env(k, v).args(["--env", k]);
        }
    }
    cmd.env("PORT", port.to_string()).args(["--env", "PORT"]);
    for (k, v) in secrets {
        cmd.env(k, v).args(["--env", k]);
    }
    if c.readonly_root_filesystem() == Some(true) {
        cmd.args(["--read-only", "--read-only-tmpfs=false"]);
    }
    for m in c.mount_points() {
        let (volume, path) = (m.source_volume().unwrap(), m.container_path().unwrap());
        let dir = volumes.path().join(volume);
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        fill_volume(image, path, &dir)?;
        cmd.args(["--volume", &format!("{}:{path}:rw", dir.display())]);
    }
    if let Some(user) = c.user() {
        cmd.args(["--user", user]);
    }
    for (name, address) in hosts {
        cmd.args(["--add-host", &format!("{name}:{address}")]);
    }
    cmd.arg(image);
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(format!(
            "podman run: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let task = Task {
        name,
        port,
        health_command: c
            .health_check()
            .map(|h| h.command().to_vec())
            .unwrap_or_default(),
        stop_timeout: c.stop_timeout().unwrap_or(DEFAULT_STOP_TIMEOUT),
        _volumes: volumes,
        service: None,
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let status = client
            .get(format!("{}status", task.url()))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if status.is_ok_and(|r| r.status().is_success()) {
            return Ok(task);
        }
        let running = podman(&["inspect", "--format", "{{.State.Running}}", &task.name]);
        if running.as_deref() != Ok("true") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = Command::new("podman")
        .args(["logs", &task.name])
        .output()
        .unwrap();
    Err(format!(
        "the task never answered ({}):\n{}{}",
        podman(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            &task.name
        ])
        .unwrap_or_default(),
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    ))
}

/// `GET /` with `Authorization: Token <token>`: (status, body).
pub async fn get(url: &str, token: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(url)
        .header("Authorization", format!("Token {token}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}
