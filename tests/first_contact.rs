//! What a person meets first: the region to work in, and (without moto when none is needed)
//! errors said in one sentence with a hint, never a debug dump.

mod common;

use common::{Project, moto};

/// stack.yaml says us-east-1 (the harness's stacks do); the environment another region.
#[tokio::test]
async fn a_region_in_stack_yaml_that_the_environment_contradicts_stops_with_exit_2() {
    let Some(moto) = moto() else {
        return;
    };
    let p = Project::new(&moto, "");
    let mut cmd = p.command(&moto, &["plan"]);
    cmd.env("AWS_REGION", "eu-west-3");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: stack.yaml says region us-east-1, but AWS_REGION says eu-west-3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: pass --region us-east-1 (or --region eu-west-3)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Error {") && !stderr.contains("{ "),
        "{stderr}"
    );

    // --region settles it (and plans there).
    let mut cmd = p.command(&moto, &["plan", "--region", "us-east-1"]);
    cmd.env("AWS_REGION", "eu-west-3");
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Agreeing settings need no flag.
    p.run(&["plan"]).ok();
}

/// stackctl in a home of its own with no AWS settings at all (instance metadata off, as on a
/// laptop where it times out), with `files` written under that home and `env` on top.
fn bare(files: &[(&str, &str)], env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = home.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let project = home.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("stack.yaml"),
        "name: demo\nservices:\n  api: { image: public.ecr.aws/nginx/nginx:1, port: 80, public: true }\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stackctl"));
    cmd.args(args)
        .current_dir(&project)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// One `error:` sentence and one `hint:`, no debug structures.
fn short(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[1].starts_with("hint: "),
        "{stderr}"
    );
    for debug in ["{ ", "Some(", "ServiceError", "DispatchFailure", "source:"] {
        assert!(!stderr.contains(debug), "debug output ({debug}): {stderr}");
    }
}

#[test]
fn no_credentials_at_all_is_one_sentence_naming_what_was_tried_and_the_fix() {
    let (code, stderr) = bare(&[], &[("AWS_REGION", "us-east-1")], &["plan"]);
    assert_eq!(code, 1, "{stderr}");
    short(&stderr);
    assert!(
        stderr.contains("error: load AWS credentials: none were found"),
        "{stderr}"
    );
    for tried in [
        "environment variables",
        "config and credentials files",
        "SSO",
        "instance metadata",
    ] {
        assert!(stderr.contains(tried), "{tried}: {stderr}");
    }
    assert!(
        stderr.contains("aws configure sso") && stderr.contains("AWS_PROFILE"),
        "{stderr}"
    );
    // The SDK's own chain stays available behind --verbose.
    let (_, verbose) = bare(&[], &[("AWS_REGION", "us-east-1")], &["plan", "--verbose"]);
    assert!(
        verbose.lines().any(|l| l.starts_with("detail: ")),
        "{verbose}"
    );
}

#[test]
fn an_expired_sso_session_says_to_sign_in_again() {
    let config = "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n";
    // The SDK's token cache file is named after the SHA-1 of the session name.
    let sha1 = std::process::Command::new("sh")
        .args(["-c", "printf %s corp | sha1sum | cut -d' ' -f1"])
        .output()
        .unwrap();
    let cache = format!(
        ".aws/sso/cache/{}.json",
        String::from_utf8_lossy(&sha1.stdout).trim()
    );
    let token = r#"{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://example.awsapps.com/start"}"#;
    let (code, stderr) = bare(
        &[(".aws/config", config), (&cache, token)],
        &[("AWS_PROFILE", "dev")],
        &["plan"],
    );
    assert_eq!(code, 1, "{stderr}");
    short(&stderr);
    assert!(stderr.contains("expired"), "{stderr}");
    assert!(stderr.contains("aws sso login"), "{stderr}");
}

#[test]
fn no_region_anywhere_says_where_to_set_one() {
    let (code, stderr) = bare(
        &[],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
        &["plan"],
    );
    assert_eq!(code, 1, "{stderr}");
    short(&stderr);
    assert!(stderr.contains("no AWS region configured"), "{stderr}");
    assert!(
        stderr.contains("region:") && stderr.contains("--region"),
        "{stderr}"
    );
}
