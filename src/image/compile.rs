//! Compiling a service's Cargo package into one static, reproducible Linux binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::error::{Error, Result};
use super::platform::Platform;

/// A compiled executable ready to be packed.
#[derive(Debug, Clone)]
pub struct CompiledBinary {
    /// Name of the binary target (also its file name in the image).
    pub name: String,
    /// Where cargo wrote it.
    pub path: PathBuf,
}

/// What to compile.
pub struct CompileRequest<'a> {
    /// Directory holding the package's Cargo.toml.
    pub package_dir: &'a Path,
    /// Binary target; `None` picks the package's only (or `default-run`) binary.
    pub bin: Option<&'a str>,
    /// Platform to compile for, a static release binary; `None`: this machine, a debug
    /// build as `cargo build` makes it (what `stackctl dev` runs).
    pub platform: Option<Platform>,
    /// Cargo target directory; `None` uses the workspace's.
    pub target_dir: Option<&'a Path>,
    /// Passed to build scripts as `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: u64,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_root: PathBuf,
    target_directory: PathBuf,
    /// The dependency graph; absent with `--no-deps`.
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    default_run: Option<String>,
    /// None for a package on disk (a workspace member or a `path` dependency).
    source: Option<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    dependencies: Vec<String>,
}

impl Metadata {
    /// The package whose manifest is `package_dir`'s Cargo.toml.
    fn package(&self, package_dir: &Path) -> Result<&Package, String> {
        let manifest = package_dir.join("Cargo.toml");
        self.packages
            .iter()
            .find(|p| p.manifest_path == manifest)
            .ok_or_else(|| format!("no package with manifest {}", manifest.display()))
    }
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    target: Option<Target>,
    executable: Option<PathBuf>,
    success: Option<bool>,
}

/// Builds the binary with `cargo build --release` for the platform's glibc target with
/// `+crt-static` (or, without a platform, a plain debug build for this machine), streaming
/// cargo's stderr (progress and compiler errors) to `progress`.
///
/// Reproducibility: absolute paths (workspace, cargo home, target dir) are remapped so
/// the binary does not depend on where the source or the build directory live, and
/// `SOURCE_DATE_EPOCH` is passed to build scripts. Symbols are stripped.
pub async fn compile(
    req: &CompileRequest<'_>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<CompiledBinary> {
    let package_dir = std::fs::canonicalize(req.package_dir).map_err(|source| Error::Read {
        path: req.package_dir.to_path_buf(),
        source,
    })?;
    let fail = |detail: String| Error::Compile {
        package: package_dir.display().to_string(),
        detail,
    };
    if let Some(platform) = req.platform {
        platform.ensure_available(&package_dir)?;
    }
    let meta = metadata(&package_dir, &["--no-deps"]).await.map_err(fail)?;
    let package = meta.package(&package_dir).map_err(fail)?;
    let bin = pick_bin(package, req.bin).map_err(fail)?;
    let target_dir = match req.target_dir {
        Some(dir) => absolute(dir),
        None => meta.target_directory.clone(),
    };

    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&package_dir)
        .args(["build", "--message-format=json-render-diagnostics"])
        .args(["--package", &package.name, "--bin", &bin])
        .arg("--target-dir")
        .arg(&target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match req.platform {
        Some(platform) => {
            cmd.arg("--release")
                .args(["--target", platform.rust_target()])
                .env_remove("RUSTFLAGS")
                .env(
                    "CARGO_ENCODED_RUSTFLAGS",
                    rustflags(&meta.workspace_root, &target_dir).join("\x1f"),
                )
                .env("SOURCE_DATE_EPOCH", req.source_date_epoch.to_string());
            if std::env::var_os("CARGO_PROFILE_RELEASE_STRIP").is_none() {
                cmd.env("CARGO_PROFILE_RELEASE_STRIP", "symbols");
            }
            if let Some(linker) = platform.linker_override() {
                cmd.env(platform.linker_env(), linker);
            }
            progress(&format!(
                "compiling {} (bin {bin}) for {platform}",
                package.name
            ));
        }
        None => progress(&format!("compiling {} (bin {bin})", package.name)),
    }
    let mut child = cmd.spawn().map_err(|e| fail(format!("start cargo: {e}")))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");

    let read_messages = async {
        let mut executable = None;
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(msg) = serde_json::from_str::<Message>(&line) else {
                continue;
            };
            let is_ours = msg
                .target
                .as_ref()
                .is_some_and(|t| t.name == bin && t.kind.iter().any(|k| k == "bin"));
            if msg.reason == "compiler-artifact" && is_ours {
                executable = msg.executable.or(executable);
            } else if msg.reason == "build-finished" && msg.success == Some(false) {
                executable = None;
            }
        }
        executable
    };
    let read_stderr = async {
        let mut tail = DiagnosticTail::default();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            progress(&line);
            tail.push(line);
        }
        tail
    };
    let (executable, tail) = tokio::join!(read_messages, read_stderr);
    let status = child
        .wait()
        .await
        .map_err(|e| fail(format!("wait for cargo: {e}")))?;
    if !status.success() {
        return Err(fail(format!(
            "cargo build failed ({status}):\n{}",
            tail.render()
        )));
    }
    let path = executable.ok_or_else(|| fail(format!("cargo reported no executable for {bin}")))?;
    Ok(CompiledBinary { name: bin, path })
}

/// Flags that make the binary static and independent of where things are on disk.
/// rustc applies the last matching remap, so the most specific prefixes come last.
fn rustflags(workspace_root: &Path, target_dir: &Path) -> Vec<String> {
    let mut flags = vec!["-Ctarget-feature=+crt-static".to_string()];
    let mut remap = |from: &Path, to: &str| {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    };
    if let Some(home) = cargo_home() {
        remap(&home, "/cargo");
    }
    remap(workspace_root, "/src");
    remap(target_dir, "/target");
    flags
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|p| absolute(&p))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn pick_bin(package: &Package, wanted: Option<&str>) -> Result<String, String> {
    let bins: Vec<&str> = package
        .targets
        .iter()
        .filter(|t| t.kind.iter().any(|k| k == "bin"))
        .map(|t| t.name.as_str())
        .collect();
    let chosen = match wanted {
        Some(w) => bins.iter().copied().find(|b| *b == w),
        None if bins.len() == 1 => Some(bins[0]),
        None => package.default_run.as_deref().filter(|d| bins.contains(d)),
    };
    chosen.map(str::to_string).ok_or_else(|| match wanted {
        Some(w) => format!(
            "package {} has no binary {w} (it has: {bins:?})",
            package.name
        ),
        None => format!(
            "package {} has binaries {bins:?}; name one with `bin`",
            package.name
        ),
    })
}

async fn metadata(package_dir: &Path, args: &[&str]) -> Result<Metadata, String> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(package_dir)
        .args(["metadata", "--format-version", "1"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("start cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("parse cargo metadata: {e}"))
}

/// The directories of the package in `package_dir` and of every package it depends on
/// through a `path` (theirs are sources too: a change there changes the binary).
pub async fn local_sources(package_dir: &Path) -> Result<Vec<PathBuf>> {
    let package_dir = std::fs::canonicalize(package_dir).map_err(|source| Error::Read {
        path: package_dir.to_path_buf(),
        source,
    })?;
    let fail = |detail: String| Error::Compile {
        package: package_dir.display().to_string(),
        detail,
    };
    let meta = metadata(&package_dir, &[]).await.map_err(fail)?;
    let root = meta.package(&package_dir).map_err(fail)?;
    let nodes = meta.resolve.as_ref().map_or(&[][..], |r| &r.nodes);
    let (mut todo, mut seen) = (vec![root.id.clone()], std::collections::BTreeSet::new());
    while let Some(id) = todo.pop() {
        let local = meta
            .packages
            .iter()
            .any(|p| p.id == id && p.source.is_none());
        if !local || !seen.insert(id.clone()) {
            continue;
        }
        if let Some(n) = nodes.iter().find(|n| n.id == id) {
            todo.extend(n.dependencies.iter().cloned());
        }
    }
    Ok(meta
        .packages
        .iter()
        .filter(|p| seen.contains(&p.id))
        .filter_map(|p| p.manifest_path.parent().map(Path::to_path_buf))
        .collect())
}

/// Keeps cargo's stderr from the first error on (or the last lines when there is no
/// error line), bounded, for the failure message.
#[derive(Default)]
struct DiagnosticTail {
    lines: Vec<String>,
    in_error: bool,
}

impl DiagnosticTail {
    const MAX: usize = 200;

    fn push(&mut self, line: String) {
        if !self.in_error && line.trim_start().starts_with("error") {
            self.in_error = true;
            self.lines.clear();
        }
        if self.in_error && self.lines.len() >= Self::MAX {
            return;
        }
        self.lines.push(line);
        if !self.in_error && self.lines.len() > 30 {
            self.lines.remove(0);
        }
    }

    fn render(&self) -> String {
        self.lines.join("\n")
    }
}
