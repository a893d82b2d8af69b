//! This repository's own workflows: they pass actionlint, and the release makes the assets
//! (and packs them so) the workflows `stackctl ci github` writes and the README download; its
//! completions and man page come from the command line's definition.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::actionlint::{actionlint, lint};

#[test]
fn this_repositorys_workflows_pass_actionlint_and_release_what_ci_github_installs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let release = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    for target in stackctl::ci::TARGETS {
        assert!(release.contains(&format!("target: {target}")), "{target}");
    }
    assert!(release.contains(&format!(
        "dist/{}",
        stackctl::ci::asset("$version", "$TARGET")
    )));
    assert!(release.contains(&format!("> {}", stackctl::ci::CHECKSUMS)));
    for (what, args) in [
        ("completions", &["completions", "bash"][..]),
        ("man page", &["man"][..]),
    ] {
        assert!(
            release.contains(&format!("\"$bin\" {}", args.join(" "))),
            "{what}"
        );
    }
    // The README's install lines download what the release makes.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let v = stackctl::ci::VERSION;
    assert!(readme.contains(&format!(
        "v={v} a={}",
        stackctl::ci::asset("$v", "$(uname -m)-unknown-linux-musl")
    )));
    assert!(readme.contains(&format!(
        "{}/releases/download/v$v/{}",
        stackctl::ci::REPOSITORY,
        stackctl::ci::CHECKSUMS
    )));
    let Some(bin) = actionlint() else { return };
    let files: Vec<PathBuf> = std::fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 2);
    let (ok, said) = lint(&bin, root, &files);
    assert!(ok, "actionlint:\n{said}");
}

/// The release packs the archive (its `tar -czf` line, run as it is) so that the generated
/// workflows' and the README's `tar -xzf … stackctl` finds the binary.
#[test]
fn what_the_release_packs_the_install_step_unpacks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let release = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let pack = release
        .lines()
        .find(|l| l.contains("tar -czf"))
        .expect("release.yml packs with tar")
        .trim();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("pack");
    for sub in ["completions", "man"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("stackctl"), "#!/bin/sh\necho stackctl\n").unwrap();
    std::fs::write(dir.join("README.md"), "readme").unwrap();
    std::fs::write(dir.join("man/stackctl.1"), ".TH stackctl 1").unwrap();
    let run = |script: &str, env: &[(&str, &Path)]| {
        let mut cmd = Command::new("bash");
        cmd.args(["-euc", script]).current_dir(work.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::create_dir_all(work.path().join("dist")).unwrap();
    run(
        &format!("version=1.2.3; TARGET=x86_64-unknown-linux-musl; {pack}"),
        &[("dir", &dir)],
    );
    let install = stackctl::ci::github::INSTALL
        .lines()
        .find(|l| l.contains("tar -xzf"))
        .unwrap()
        .trim();
    let home = work.path().join("home");
    std::fs::create_dir_all(home.join(".local/bin")).unwrap();
    run(
        &format!("cd dist; asset=stackctl-1.2.3-x86_64-unknown-linux-musl.tar.gz; {install}"),
        &[("HOME", &home)],
    );
    assert!(home.join(".local/bin/stackctl").is_file());
    assert!(
        !home.join(".local/bin/README.md").exists(),
        "only the binary"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let bash = run(&["completions", "bash"]);
    assert!(bash.contains("_stackctl()") && bash.contains("rotate-token"));
    let zsh = run(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef stackctl"));
    let fish = run(&["completions", "fish"]);
    assert!(fish.contains("complete -c stackctl"));
    let man = run(&["man"]);
    assert!(
        man.contains(".TH stackctl 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("rotate\\-token"));
}
