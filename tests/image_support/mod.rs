//! Helpers shared by the image builder's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use stackctl::image::{BuildSpec, BuiltImage};

/// The address a stand-in exported, or `None` (test skipped) when it is not running;
/// under `STACKCTL_TEST_REQUIRE_SERVICES=1` (scripts/test.sh) a missing one fails.
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("STACKCTL_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set: run the tests with ./scripts/test.sh")
        }
        _ => {
            eprintln!("skipped: {var} is not set (run ./scripts/test.sh to start it)");
            None
        }
    }
}

/// A persistent cargo target directory for image builds in tests, kept between runs
/// (warm builds) and separate from the one running the tests.
pub fn build_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    base.join("image-tests").join(name)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/hello")
}

/// The spec of the `hello` fixture, built in `target_dir`.
pub fn fixture_spec(target_dir: PathBuf) -> BuildSpec {
    BuildSpec {
        package_dir: fixture_dir(),
        stack: "test".into(),
        service: "hello".into(),
        port: 8080,
        revision: "0123456789abcdef".into(),
        source_date_epoch: 1_700_000_000,
        target_dir: Some(target_dir),
        ..BuildSpec::default()
    }
}

/// Builds `spec`, collecting cargo's output; panics with that output on failure.
pub async fn build(spec: &BuildSpec) -> BuiltImage {
    let log = Mutex::new(Vec::<String>::new());
    let progress = |line: &str| log.lock().unwrap().push(line.to_string());
    match stackctl::image::build(spec, &progress).await {
        Ok(image) => image,
        Err(e) => panic!("{e}\n--- progress ---\n{}", log.lock().unwrap().join("\n")),
    }
}

/// The files of a gzip'd tar layer: path (no trailing slash) → content.
pub fn layer_files(gz: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let mut content = Vec::new();
            e.read_to_end(&mut content).unwrap();
            (path.trim_end_matches('/').to_string(), content)
        })
        .collect()
}

/// Runs a command, returning stdout; panics with its output on failure. Only program
/// and arguments are shown, never the environment (which may hold a secret).
pub fn run(cmd: &mut std::process::Command) -> String {
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().unwrap_or_else(|e| panic!("run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
