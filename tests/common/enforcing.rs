//! A moto server of a test's own with IAM enforcement (scripts/services/moto_enforcing.py):
//! enforcement is process-wide in moto, so such a test cannot share the suite's.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::free_port;

/// A moto server of the test's own: IAM enforcement is process-wide in moto.
pub struct OwnMoto {
    child: Child,
    pub url: String,
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

pub async fn own_moto() -> OwnMoto {
    let port = free_port();
    let launcher =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/moto_enforcing.py");
    let child = Command::new("python3")
        .arg(launcher)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_ECS_SERVICE_RUNNING", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(format!("{url}/moto-api/")).send().await.is_err() {
        assert!(Instant::now() < deadline, "moto did not start on {url}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    OwnMoto { child, url }
}

/// From now on moto checks every call against the caller's IAM policies.
pub async fn enforce(moto: &str) {
    let r = reqwest::Client::new()
        .post(format!("{moto}/moto-api/reset-auth"))
        .body("0")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

/// An IAM user holding only `policy` (in as many managed policies as IAM's size limit
/// needs); its access key.
pub async fn user(aws: &stackctl::aws::Aws, name: &str, policy: String) -> (String, String) {
    aws.iam.create_user().user_name(name).send().await.unwrap();
    let policy: Value = serde_json::from_str(&policy).unwrap();
    let size = |v: &Value| v.to_string().chars().filter(|c| !c.is_whitespace()).count();
    let mut chunks: Vec<Vec<Value>> = vec![vec![]];
    for st in policy["Statement"].as_array().unwrap() {
        let last = chunks.last_mut().unwrap();
        last.push(st.clone());
        if size(&serde_json::json!(last)) > 5800 && last.len() > 1 {
            let st = last.pop().unwrap();
            chunks.push(vec![st]);
        }
    }
    for (i, chunk) in chunks.into_iter().enumerate() {
        let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": chunk });
        let arn = aws
            .iam
            .create_policy()
            .policy_name(format!("{name}-{i}"))
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap()
            .arn()
            .unwrap()
            .to_string();
        aws.iam
            .attach_user_policy()
            .user_name(name)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let key = aws
        .iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// The parts `stackctl policy --part 1`, `--part 2`, … print for the project (`role`: a CI
/// role's, `--role`).
pub fn printed_parts(p: &super::Project, account: Option<&str>, role: Option<&str>) -> Vec<Value> {
    let mut parts = Vec::new();
    for part in 1.. {
        let mut cmd = p.command("", &["policy", "--part", &part.to_string()]);
        if let Some(a) = account {
            cmd.args(["--account", a]);
        }
        if let Some(r) = role {
            cmd.args(["--role", r]);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if part > 1 && out.status.code() == Some(2) && err.contains("--part") {
            break;
        }
        assert!(out.status.success(), "{err}");
        parts.push(serde_json::from_slice(&out.stdout).unwrap());
    }
    parts
}

/// [`printed_parts`] as one document.
pub fn printed_policy(p: &super::Project, account: Option<&str>, role: Option<&str>) -> Value {
    let statements: Vec<Value> = printed_parts(p, account, role)
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .collect();
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
}
