//! The data plane moto does not have: runs a registered task definition's container in
//! podman as Fargate would (the image by digest from the registry, secrets resolved from
//! SSM by the ARNs in the task definition, read-only root with its volumes, its user), so
//! tests can call what stackctl deployed. Host networking: each task gets its own PORT.

use std::process::Command;
use std::time::Duration;

use aws_sdk_ecs::types::ContainerDefinition;
use stackctl::aws::Aws;

/// A running task; removed when dropped.
pub struct Task {
    pub name: String,
    pub port: u16,
    pub health_command: Vec<String>,
}

impl Drop for Task {
    fn drop(&mut self) {
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
    /// SIGTERM, as ECS stops a task; waits for a graceful exit. Returns the exit code.
    pub fn stop(&self) -> String {
        let _ = Command::new("podman")
            .args(["stop", "--time", "20", &self.name])
            .output();
        let out = Command::new("podman")
            .args(["inspect", "--format", "{{.State.ExitCode}}", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The values ECS would inject for the task definition's `secrets` (Err: a parameter is
/// gone, so ECS could not start the task).
pub async fn secrets(aws: &Aws, task_definition: &str) -> Result<Vec<(String, String)>, String> {
    resolve(aws, &container(aws, task_definition).await).await
}

/// The task definition's (only) container.
async fn container(aws: &Aws, task_definition: &str) -> ContainerDefinition {
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(task_definition)
        .send()
        .await
        .unwrap();
    td.task_definition().unwrap().container_definitions()[0].clone()
}

/// Resolves the container's `secrets` from SSM, as ECS does when a task starts.
async fn resolve(aws: &Aws, c: &ContainerDefinition) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for s in c.secrets() {
        let name = s
            .value_from()
            .split_once(":parameter")
            .map(|(_, n)| n.to_string())
            .expect("an SSM parameter ARN");
        let got = aws
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| format!("ResourceInitializationError: {name}: {e:?}"))?;
        let value = got.parameter().and_then(|p| p.value()).unwrap().to_string();
        out.push((s.name().to_string(), value));
    }
    Ok(out)
}

/// Starts a task of `task_definition` and waits until it answers.
pub async fn run_task(aws: &Aws, task_definition: &str) -> Task {
    let c = &container(aws, task_definition).await;
    let port = super::free_port();
    let name = format!("stackctl-task-{}-{port}", std::process::id());
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
    let secrets = resolve(aws, c).await.unwrap();
    for (k, v) in &secrets {
        cmd.env(k, v).args(["--env", k]);
    }
    if c.readonly_root_filesystem() == Some(true) {
        cmd.arg("--read-only");
    }
    for m in c.mount_points() {
        cmd.args([
            "--tmpfs",
            &format!("{}:rw,mode=1777", m.container_path().unwrap()),
        ]);
    }
    if let Some(user) = c.user() {
        cmd.args(["--user", user]);
    }
    cmd.arg(c.image().unwrap());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "podman run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task = Task {
        name,
        port,
        health_command: c
            .health_check()
            .map(|h| h.command().to_vec())
            .unwrap_or_default(),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let status = client
            .get(format!("{}status", task.url()))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if status.is_ok_and(|r| r.status().is_success()) {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = Command::new("podman")
        .args(["logs", &task.name])
        .output()
        .unwrap();
    panic!(
        "task never answered:\n{}",
        String::from_utf8_lossy(&logs.stderr)
    );
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
