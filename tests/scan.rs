//! The scan gate against the emulator's ECR basic scanning (scripts/services/fidelity_ecr_scan.py,
//! over the images in the local registry): a service built on a Debian base with packages the
//! feed lists stops `up --fail-on high` before any task definition exists, and deploys without
//! the flag with the findings told; a clean base passes; the binary alone is not scanned
//! (UNSUPPORTED_IMAGE, as on AWS), which `--fail-on` refuses to take for clean.

mod common;

use std::io::Write;

use common::{Project, Run, clients, moto};
use sha2::{Digest, Sha256};

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A layer with a Debian release file and a dpkg database of `packages` (name, version).
fn debian_layer(packages: &[(&str, &str)]) -> (Vec<u8>, Vec<u8>) {
    let status: String = packages
        .iter()
        .map(|(p, v)| {
            format!(
                "Package: {p}\nStatus: install ok installed\nVersion: {v}\nArchitecture: amd64\n\n"
            )
        })
        .collect();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in [
        (
            "etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                .as_bytes(),
        ),
        ("var/lib/dpkg/status", status.as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, path, data).unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    (raw, gz.finish().unwrap())
}

/// Pushes a one-layer linux/amd64 image to the local registry; its reference by tag.
async fn push_base(
    registry: &str,
    repository: &str,
    tag: &str,
    packages: &[(&str, &str)],
) -> String {
    let http = reqwest::Client::new();
    let (raw, layer) = debian_layer(packages);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": { "type": "layers", "diff_ids": [sha(&raw)] }
    })
    .to_string()
    .into_bytes();
    for blob in [&layer, &config] {
        let start = http
            .post(format!("http://{registry}/v2/{repository}/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 202);
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let url = if location.starts_with("http") {
            location
        } else {
            format!("http://{registry}{location}")
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let put = http
            .put(format!("{url}{sep}digest={}", sha(blob)))
            .header("content-type", "application/octet-stream")
            .body(blob.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&config), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(&layer), "size": layer.len() }]
    });
    let put = http
        .put(format!("http://{registry}/v2/{repository}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    format!("{registry}/{repository}:{tag}")
}

/// The stack's API service on `base` (None: the binary alone).
fn project(moto: &str, base: Option<&str>) -> Project {
    let p = Project::new(moto, "");
    if let Some(b) = base {
        let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
        let yaml = yaml.replace(
            "    port: 8080\n",
            &format!("    port: 8080\n    base: {b}\n"),
        );
        std::fs::write(p.stack_file(), yaml).unwrap();
    }
    p
}

async fn task_definitions(moto: &str, p: &Project) -> usize {
    let ecs = clients(moto).await.ecs;
    let out = ecs
        .list_task_definitions()
        .family_prefix(format!("{}-default-api", p.name))
        .send()
        .await
        .unwrap();
    out.task_definition_arns().len()
}

fn timed(p: &Project, args: &[&str]) -> Run {
    let t = std::time::Instant::now();
    let run = p.run(args);
    eprintln!(
        "[scan] {args:?}: exit {} in {:.1}s",
        run.code,
        t.elapsed().as_secs_f64()
    );
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_stops_a_deploy_before_its_task_definition_when_the_scan_finds_or_cannot_tell() {
    let Some(moto) = moto() else { return };
    let registry = std::env::var("STACKCTL_TEST_REGISTRY").expect("run ./scripts/test.sh");
    let vulnerable = push_base(
        &registry,
        "bases/debian",
        "vulnerable",
        &[
            ("openssl", "3.0.11-1~deb12u2"),
            ("libssl3", "3.0.11-1~deb12u2"),
            ("zlib1g", "1:1.2.13.dfsg-1"),
            ("bash", "5.2.15-2+b7"),
        ],
    )
    .await;
    let clean = push_base(
        &registry,
        "bases/debian",
        "clean",
        &[
            ("openssl", "3.0.17-1~deb12u2"),
            ("zlib1g", "1:1.2.13.dfsg-1+deb12u1"),
            ("bash", "5.2.15-2+b7"),
        ],
    )
    .await;

    // Findings high or worse: stopped before the task definition, with what was found.
    let p = project(&moto, Some(&vulnerable));
    let stopped = timed(&p, &["up", "--fail-on", "high"]);
    assert_ne!(stopped.code, 0, "{}", stopped.all());
    assert!(
        stopped.all().contains(
            "stopped before any task definition changed: image api has 3 findings high or worse"
        ),
        "{}",
        stopped.all()
    );
    assert!(
        stopped.all().contains("CVE-2023-45853 in zlib1g"),
        "{}",
        stopped.all()
    );
    assert_eq!(
        task_definitions(&moto, &p).await,
        0,
        "no task definition registered"
    );
    // Critical only is still refused (zlib1g's); without the flag it deploys, and says so.
    let stopped = timed(&p, &["up", "--fail-on", "critical"]);
    assert!(
        stopped.all().contains("1 finding critical or worse"),
        "{}",
        stopped.all()
    );
    let up = timed(&p, &["up"]);
    assert_eq!(up.code, 0, "{}", up.all());
    assert!(
        up.all().contains("1 critical, 2 high"),
        "the scan is told: {}",
        up.all()
    );
    assert_eq!(task_definitions(&moto, &p).await, 1);
    p.run(&["down", "--yes"]).ok();

    // A clean base passes the gate.
    let p = project(&moto, Some(&clean));
    let up = timed(&p, &["up", "--fail-on", "high"]);
    assert_eq!(up.code, 0, "{}", up.all());
    assert!(up.all().contains("no findings"), "{}", up.all());
    p.run(&["down", "--yes"]).ok();

    // The binary alone: ECR's basic scanning cannot read it, and the gate cannot pass it.
    let p = project(&moto, None);
    let stopped = timed(&p, &["up", "--fail-on", "high"]);
    assert_ne!(stopped.code, 0, "{}", stopped.all());
    assert!(
        stopped
            .all()
            .contains("was not scanned (UNSUPPORTED_IMAGE)"),
        "{}",
        stopped.all()
    );
    assert!(
        stopped.all().contains("enhanced scanning"),
        "the hint says what would: {}",
        stopped.all()
    );
    assert_eq!(task_definitions(&moto, &p).await, 0);
    p.run(&["down", "--yes"]).ok();
}
