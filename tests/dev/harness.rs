//! The harness of the `stackctl dev` tests: the real binary run as a user runs it, its
//! lines collected; HTTP calls; tiny services; process and port checks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const STACKCTL: &str = env!("CARGO_BIN_EXE_stackctl");
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A running `stackctl dev`, its lines collected.
pub struct Dev {
    child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    file: PathBuf,
}

impl Dev {
    pub fn start(file: &Path, args: &[&str]) -> Dev {
        let mut child = Command::new(STACKCTL)
            .arg("dev")
            .arg("--file")
            .arg(file)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("stackctl runs");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    println!("{line}");
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Dev {
            child,
            lines,
            file: file.into(),
        }
    }

    /// Waits for the `n`-th line containing `text` (1-based) and returns it.
    pub fn wait_for(&mut self, text: &str, n: usize, within: Duration) -> String {
        let start = Instant::now();
        loop {
            let found: Vec<String> = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(text))
                .cloned()
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("stackctl dev ended ({status}) before printing {text:?}");
            }
            assert!(
                start.elapsed() < within,
                "no {text:?} (#{n}) within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn count(&self, text: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    /// The pid in a `<service>: healthy after … (pid N, …)` line.
    pub fn pid(&mut self, service: &str, n: usize) -> i32 {
        let line = self.wait_for(
            &format!("{service}: healthy after"),
            n,
            Duration::from_secs(300),
        );
        let after = line.split("(pid ").nth(1).unwrap();
        after.split(',').next().unwrap().parse().unwrap()
    }

    pub fn token(&self) -> String {
        let out = Command::new(STACKCTL)
            .args(["token", "--dev", "--file"])
            .arg(&self.file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Ctrl-C, then the exit status and how long stopping took.
    pub fn interrupt(&mut self) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        // SAFETY: kill(2) on our child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "dev did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub fn alive(pid: i32) -> bool {
    // A zombie has exited: only its parent has not read its status yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// Runs `f` on a runtime of its own with a client that does not follow redirects.
fn with_client<T>(f: impl AsyncFnOnce(reqwest::Client) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    rt.block_on(f(client))
}

/// (status, body); (0, "") when the connection fails.
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    with_client(async |client| {
        let mut req = client.get(url);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Token {t}"));
        }
        match req.send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    })
}

/// (status, Location).
pub fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    with_client(async |client| {
        let r = client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status().as_u16(), to)
    })
}

/// Polls until `check` holds.
pub fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// A package of its own (std only, builds in a second) answering `<reply> <SIDE_URL>`.
pub fn tiny_service(dir: &Path, name: &str, reply: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            r#"use std::io::{{Read, Write}};
fn main() {{
    let port: u16 = std::env::var("PORT").unwrap().parse().unwrap();
    let side = std::env::var("SIDE_URL").unwrap_or_default();
    let listener = std::net::TcpListener::bind(("0.0.0.0", port)).unwrap();
    for stream in listener.incoming() {{
        let Ok(mut s) = stream else {{ continue }};
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let body = format!("{reply} {{side}}");
        let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {{}}\r\nConnection: close\r\n\r\n{{body}}", body.len());
    }}
}}
"#
        ),
    )
    .unwrap();
}

/// A stack.yaml in `dir` with the token API on `port`, and `extra` after its services.
pub fn token_api(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let file = dir.join("stack.yaml");
    let api = format!(
        "name: demo\nservices:\n  api:\n    build: {REPO}/apps/api\n    port: {port}\n    health: /status\n    public: true\n    token: true\n"
    );
    std::fs::write(&file, api + extra).unwrap();
    file
}

/// The two-tier example's stack.yaml in `dir`, its services on the ports given.
pub fn two_tier(dir: &Path, web: u16, users: u16) -> PathBuf {
    let example = std::fs::read_to_string(format!("{REPO}/examples/two-tier/stack.yaml")).unwrap();
    let stack = example
        .replace("../../apps", &format!("{REPO}/apps"))
        .replace("port: 8000", &format!("port: {web}"))
        .replace("port: 8080", &format!("port: {users}"));
    let file = dir.join("stack.yaml");
    std::fs::write(&file, stack).unwrap();
    file
}

pub fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `stackctl <args> --file <file>`, which must fail with exit code 1; its stderr.
pub fn fails(file: &Path, args: &[&str]) -> String {
    let out = Command::new(STACKCTL)
        .args(args)
        .arg("--file")
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains(" {"), "a Debug dump: {err}");
    err
}
