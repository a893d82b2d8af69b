//! The real `apps/api` image, built daemonless, pushed to the local registry, pulled
//! and run by podman (runc): HTTP behaviour, non-root user, graceful SIGTERM stop.

mod image_support;

use std::process::Command;
use std::time::Duration;

use image_support::{build, build_dir, free_port, repo_root, run, service};
use stackctl::image::{self, BuildSpec, RegistryAuth, RegistryTarget};

const BODY_OK: &str = "devops test server flying!!";
const BODY_DENIED: &str = "Unauthorized Access";

fn podman(args: &[&str]) -> String {
    run(Command::new("podman").args(args)).trim().to_string()
}

/// Removes the container however the test ends.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "--force", "--time", "0", &self.0])
            .output();
    }
}

async fn get(url: &str, token: Option<&str>) -> reqwest::Result<(u16, String)> {
    let mut req = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5));
    if let Some(token) = token {
        req = req.header("Authorization", format!("Token {token}"));
    }
    let resp = req.send().await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

#[tokio::test]
async fn api_image_serves_as_non_root_in_podman_and_stops_on_sigterm() {
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let Some(_) = service("STACKCTL_TEST_PODMAN") else {
        return;
    };
    let spec = BuildSpec {
        package_dir: repo_root().join("apps/api"),
        stack: "test".into(),
        service: "api".into(),
        target_dir: Some(build_dir("api")),
        ..BuildSpec::default()
    };
    let built = build(&spec).await;
    let target = RegistryTarget::new(&registry, "test/api", RegistryAuth::Anonymous).unwrap();
    let published = image::publish(&built, &target, "podman").await.unwrap();

    // Pulled over plain HTTP thanks to registries.conf from scripts/services/podman.sh.
    podman(&["pull", "--quiet", &published.reference]);
    let name = format!("stackctl-image-test-{}", std::process::id());
    let container = Container(name.clone());
    let port = free_port();
    let token = format!("tok-{:x}", std::process::id() as u64 * 2_654_435_761);
    run(Command::new("podman")
        .env("API_TOKEN", &token)
        .args(["run", "--detach", "--name", &name, "--env", "API_TOKEN"])
        .args(["--env", &format!("PORT={port}"), &published.reference]));

    let url = format!("http://127.0.0.1:{port}/");
    let mut ready = false;
    for _ in 0..300 {
        if get(&url, None).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready,
        "api never answered; logs:\n{}",
        podman(&["logs", &name])
    );
    assert_eq!(
        get(&url, Some(&token)).await.unwrap(),
        (200, BODY_OK.to_string())
    );
    assert_eq!(
        get(&url, None).await.unwrap(),
        (401, BODY_DENIED.to_string())
    );
    assert_eq!(get(&url, Some("wrong")).await.unwrap().0, 401);

    // The process itself, seen from the host, runs as the image's non-root user.
    let pid = podman(&["inspect", "--format", "{{.State.Pid}}", &name]);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let uids: Vec<&str> = uids.split_whitespace().skip(1).collect();
    assert_eq!(uids, ["65532"; 4], "{status}");

    // PID 1 ignores signals it has no handler for, so exit status 0 (not 137 from the
    // SIGKILL fallback after --time) shows the api handled SIGTERM and exited cleanly.
    podman(&["stop", "--time", "20", &name]);
    let state = podman(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}}",
        &name,
    ]);
    assert_eq!(state, "exited 0", "logs:\n{}", podman(&["logs", &name]));
    drop(container);
    let _ = Command::new("podman")
        .args(["rmi", "--force", &published.reference])
        .output();
}
