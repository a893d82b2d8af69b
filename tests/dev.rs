//! `stackctl dev` as a user runs it: the real binary on real stacks, reached through its
//! front with a real HTTP client; a service killed, a source changed, Ctrl-C.
//!
//! Ports are fixed, below Linux's ephemeral range (32768 and up), where the other tests'
//! client connections would take them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STACKCTL: &str = env!("CARGO_BIN_EXE_stackctl");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A running `stackctl dev`, its lines collected.
struct Dev {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    file: PathBuf,
}

impl Dev {
    fn start(file: &Path, args: &[&str]) -> Dev {
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
    fn wait_for(&mut self, text: &str, n: usize, within: Duration) -> String {
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

    fn count(&self, text: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    /// The pid in a `<service>: healthy after … (pid N, …)` line.
    fn pid(&mut self, service: &str, n: usize) -> i32 {
        let line = self.wait_for(
            &format!("{service}: healthy after"),
            n,
            Duration::from_secs(300),
        );
        let after = line.split("(pid ").nth(1).unwrap();
        after.split(',').next().unwrap().parse().unwrap()
    }

    fn token(&self) -> String {
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
    fn interrupt(&mut self) -> (std::process::ExitStatus, Duration) {
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

fn alive(pid: i32) -> bool {
    // A zombie has exited: only its parent has not read its status yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
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

fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
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
fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

#[test]
fn the_token_api_runs_behind_the_front_with_its_local_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.yaml");
    std::fs::write(
        &file,
        format!(
            "name: demo\nservices:\n  api:\n    build: {REPO}/apps/api\n    port: 27311\n    health: /status\n    public: true\n    token: true\n"
        ),
    )
    .unwrap();
    let before = Command::new(STACKCTL)
        .args(["token", "--dev", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&before.stderr);
    assert_eq!(before.status.code(), Some(1), "{said}");
    assert!(
        said.contains("service `api` has no local token yet"),
        "{said}"
    );
    assert!(said.contains("run `stackctl dev` once"), "{said}");
    let mut dev = Dev::start(&file, &["--port", "27301"]);
    dev.wait_for("ready in", 1, Duration::from_secs(600));
    let pid = dev.pid("api", 1);
    let token = dev.token();
    assert_eq!(token.len(), 43, "32 random bytes, URL-safe base64");
    let front = "http://127.0.0.1:27301/";
    assert_eq!(get(front, Some(&token)).0, 200);
    assert_eq!(get(front, Some("wrong")).0, 401);
    assert_eq!(get(front, None).0, 401);

    // The token is the user's alone and never in the repository.
    use std::os::unix::fs::PermissionsExt;
    let tokens = dir.path().join(".stackctl/dev/tokens");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&tokens.join("api")), 0o600);
    assert_eq!(mode(&dir.path().join(".stackctl/dev")), 0o700);
    let ignore = std::fs::read_to_string(dir.path().join(".stackctl/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"));
    assert!(
        !dev.lines.lock().unwrap().iter().any(|l| l.contains(&token)),
        "the token was printed"
    );

    // Killed, the service is restarted and the front sends requests to it again.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    dev.wait_for("api: exited", 1, Duration::from_secs(10));
    let again = dev.pid("api", 2);
    assert_ne!(again, pid);
    assert_eq!(get(front, Some(&token)).0, 200);

    let (status, took) = dev.interrupt();
    assert!(status.success(), "{status}");
    println!("stopped in {took:?}");
    assert!(!alive(again), "api is still running");
    assert!(port_free(27301) && port_free(27311), "a port is left open");
}

/// A package of its own (std only, builds in a second) answering `<reply> <SIDE_URL>`.
fn tiny_service(dir: &Path, name: &str, reply: &str) {
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

#[test]
fn watch_rebuilds_only_the_changed_service_and_ctrl_c_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    tiny_service(&dir.path().join("hello"), "devhello", "v1");
    tiny_service(&dir.path().join("side"), "devside", "side");
    let file = dir.path().join("stack.yaml");
    std::fs::write(
        &file,
        "name: tiny\nservices:\n  hello: { build: hello, port: 27321, health: /, public: true, calls: [side] }\n  side: { build: side, port: 27322, health: / }\n",
    )
    .unwrap();
    let mut dev = Dev::start(&file, &["--port", "27302", "--watch"]);
    dev.wait_for("ready in", 1, Duration::from_secs(300));
    let front = "http://127.0.0.1:27302/x";
    assert_eq!(get(front, None), (200, "v1 http://127.0.0.1:27322".into()));
    assert_eq!(get("http://127.0.0.1:27322/", None).1, "side ");
    let (hello, side) = (dev.pid("hello", 1), dev.pid("side", 1));

    let main = dir.path().join("hello/src/main.rs");
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, code.replace("\"v1 ", "\"v2 ")).unwrap();
    let took = eventually("the new version answers", Duration::from_secs(120), || {
        get(front, None).1.starts_with("v2 ")
    });
    println!("watch: saved to serving the new version in {took:?}");
    assert!(!alive(hello), "the old hello still runs");
    assert_eq!(dev.count("side: healthy after"), 1, "side was restarted");
    assert!(alive(side));

    // A build that fails keeps the running version.
    std::fs::write(&main, "fn main() { this does not compile }").unwrap();
    dev.wait_for("hello: the build failed", 1, Duration::from_secs(120));
    assert!(get(front, None).1.starts_with("v2 "));

    let hello = dev.pid("hello", 2);
    let (status, took) = dev.interrupt();
    assert!(status.success(), "{status}");
    println!("stopped in {took:?}");
    assert!(!alive(hello) && !alive(side), "a service is still running");
    assert!(
        port_free(27302) && port_free(27321) && port_free(27322),
        "a port is left open"
    );
}

/// The two-tier example's stack.yaml in `dir`, its services on the ports given.
fn two_tier(dir: &Path, web: u16, users: u16) -> PathBuf {
    let example = std::fs::read_to_string(format!("{REPO}/examples/two-tier/stack.yaml")).unwrap();
    let stack = example
        .replace("../../apps", &format!("{REPO}/apps"))
        .replace("port: 8000", &format!("port: {web}"))
        .replace("port: 8080", &format!("port: {users}"));
    let file = dir.join("stack.yaml");
    std::fs::write(&file, stack).unwrap();
    file
}

#[test]
fn the_two_tier_example_runs_with_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = two_tier(dir.path(), 27331, 27332);
    let mut dev = Dev::start(&file, &["--port", "27303"]);
    let db = dev.wait_for("database: ", 1, Duration::from_secs(120));
    let postgres = db.contains("PostgreSQL");
    dev.wait_for("ready in", 1, Duration::from_secs(900));
    let front = "http://127.0.0.1:27303";
    let (status, to) = post_form(&format!("{front}/users"), &[("id", "7"), ("name", "Grace")]);
    assert_eq!((status, to.as_str()), (303, "/?msg=added&id=7&name=Grace"));
    let page = get(&format!("{front}/"), None).1;
    assert!(page.contains("Grace"), "{page}");
    let users = dev.pid("users", 1);
    let (status, took) = dev.interrupt();
    assert!(status.success(), "{status}");
    println!("stopped in {took:?} (database: {db})");
    assert!(!alive(users));
    assert!(port_free(27303) && port_free(27331) && port_free(27332));
    if postgres {
        // The cluster was stopped too: nothing listens on its port any more.
        let port: u16 = db
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap();
        assert!(port_free(port), "PostgreSQL still listens on {port}");
    }
}

#[test]
fn a_port_in_use_and_a_service_that_never_answers_are_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    tiny_service(&dir.path().join("hello"), "devhello2", "hi");
    // A service that starts but never listens.
    let mute = dir.path().join("mute");
    tiny_service(&mute, "devmute", "");
    std::fs::write(
        mute.join("src/main.rs"),
        "fn main() { std::thread::sleep(std::time::Duration::from_secs(3600)); }\n",
    )
    .unwrap();
    // A service that listens on 127.0.0.1 only: the load balancer could never reach it.
    let inside = dir.path().join("inside");
    tiny_service(&inside, "devinside", "");
    let code = std::fs::read_to_string(inside.join("src/main.rs")).unwrap();
    std::fs::write(
        inside.join("src/main.rs"),
        code.replace("0.0.0.0", "127.0.0.1"),
    )
    .unwrap();
    let file = dir.path().join("stack.yaml");
    std::fs::write(
        &file,
        "name: tiny\nservices:\n  hello: { build: hello, port: 27341, health: /, public: true }\n  mute: { build: mute, port: 27342, health: /ready }\n  inside: { build: inside, port: 27343, health: / }\n",
    )
    .unwrap();

    let taken = std::net::TcpListener::bind(("0.0.0.0", 27341)).unwrap();
    let out = Command::new(STACKCTL)
        .args(["dev", "--port", "27304", "--file"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("port 27341 (service hello) is in use"),
        "{err}"
    );
    assert!(err.contains("ss -ltnp 'sport = :27341'"), "{err}");
    assert!(!err.contains("PortInUse"), "a Debug dump: {err}");
    drop(taken);

    let mut dev = Dev::start(&file, &["--port", "27304", "--health-timeout", "2s"]);
    let said = dev.wait_for("mute: GET http://", 1, Duration::from_secs(300));
    assert!(
        said.contains(":27342/ready did not answer 200 within 2 s"),
        "{said}"
    );
    assert!(said.contains("check `health:` and `port:`"), "{said}");
    let said = dev.wait_for("inside: GET http://", 1, Duration::from_secs(30));
    assert!(said.contains("it answers on 127.0.0.1 only"), "{said}");
    assert!(
        !said.contains("http://127.0.0.1:"),
        "probed at the machine's own address: {said}"
    );
    dev.wait_for("mute: restarting in 1 s", 1, Duration::from_secs(10));
    // The other service serves meanwhile; the front says which one is missing.
    assert_eq!(get("http://127.0.0.1:27304/", None).1, "hi ");
    let (status, _) = dev.interrupt();
    assert!(status.success(), "{status}");
}

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_two_tier_example_runs_in_containers_as_fargate_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = two_tier(dir.path(), 27351, 27352);
    let mut dev = Dev::start(&file, &["--port", "27305", "--containers"]);
    dev.wait_for(
        "running the services' images in podman",
        1,
        Duration::from_secs(60),
    );
    dev.wait_for("ready in", 1, Duration::from_secs(1500));
    let front = "http://127.0.0.1:27305";
    // web reaches users by its private name, as in the VPC.
    let (status, to) = post_form(&format!("{front}/users"), &[("id", "8"), ("name", "Linus")]);
    assert_eq!((status, to.as_str()), (303, "/?msg=added&id=8&name=Linus"));
    assert!(get(&format!("{front}/"), None).1.contains("Linus"));

    let names = podman(&[
        "ps",
        "--filter",
        "name=stackctl-dev-",
        "--format",
        "{{.Names}}",
    ]);
    let users = names
        .lines()
        .find(|n| n.ends_with("-users") && !n.is_empty())
        .unwrap_or_else(|| panic!("no users container in {names:?}"))
        .to_string();
    // Fargate's shape: read-only root, the image's user, only the task's volumes writable.
    let shape = podman(&[
        "inspect",
        "--format",
        "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}",
        &users,
    ]);
    assert_eq!(shape, "true 65532:65532");
    // The password reaches the container by name only: not on the runtime's command line.
    let client = dev.pid("users", 1);
    let cmdline = std::fs::read(format!("/proc/{client}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(cmdline.contains("--env DATABASE_PASSWORD "), "{cmdline}");
    assert!(!cmdline.contains("DATABASE_PASSWORD="), "{cmdline}");

    let (status, took) = dev.interrupt();
    assert!(status.success(), "{status}");
    println!("stopped in {took:?}");
    let left = podman(&[
        "ps",
        "--all",
        "--filter",
        &format!("name={users}"),
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(left, "", "a container is left");
    assert!(port_free(27305) && port_free(27351) && port_free(27352));
}
