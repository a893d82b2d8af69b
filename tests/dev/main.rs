//! `stackctl dev` as a user runs it: the real binary on real stacks, reached through its
//! front with a real HTTP client; a service killed, a source changed, Ctrl-C.
//!
//! Ports are fixed, below Linux's ephemeral range (32768 and up), where the other tests'
//! client connections would take them.

mod harness;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::*;

#[test]
fn the_token_api_runs_behind_the_front_with_its_local_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = token_api(dir.path(), 27311, "");
    let said = fails(&file, &["token", "--dev"]);
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
    // A request with no path to forward (`OPTIONS *`) is refused, not a crash.
    let mut raw = std::net::TcpStream::connect("127.0.0.1:27301").unwrap();
    raw.write_all(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(get(front, Some(&token)).0, 200, "the front still serves");

    // The token is the user's alone and never in the repository.
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
    let front = "http://127.0.0.1:27302/x";
    // While the services build, the front answers at once, as a load balancer with no
    // healthy target does: 503, not a connection left waiting for the build.
    eventually("the front listens", Duration::from_secs(60), || {
        !port_free(27302)
    });
    let (status, body) = get(front, None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(dev.count("Finished"), 0, "answered only after the build");
    dev.wait_for("ready in", 1, Duration::from_secs(300));
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
    let err = fails(&file, &["dev", "--port", "27304"]);
    assert!(
        err.contains("port 27341 (service hello) is in use"),
        "{err}"
    );
    assert!(err.contains("ss -ltnp 'sport = :27341'"), "{err}");
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

/// `stackctl check smoke --dev` on the token API with a database: the whole payments
/// contract (create, read, list, update, delete, gone) on a record it removes, then a short
/// load run through the front.
#[test]
fn check_smoke_and_load_pass_against_the_local_stack() {
    let dir = tempfile::tempdir().unwrap();
    let database = "database:\n  version: \"15\"\n  services: [api]\n";
    let file = token_api(dir.path(), 27371, database);
    let mut dev = Dev::start(&file, &["--port", "27361"]);
    dev.wait_for("ready in", 1, Duration::from_secs(600));
    let check = |args: &[&str]| {
        let out = Command::new(STACKCTL)
            .arg("check")
            .args(args)
            .args(["--dev", "--url", "http://127.0.0.1:27361/", "--file"])
            .arg(&file)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, out, err) = check(&["smoke"]);
    assert_eq!(code, Some(0), "{out}{err}");
    for step in [
        "ok   POST /v1/payments creates one: 201 Created",
        "ok   as it was written",
        "ok   its status is consumed",
        "ok   it is gone (404): 404 Not Found",
        "Passed: 13 steps.",
    ] {
        assert!(out.contains(step), "{step}:\n{out}");
    }
    // Nothing left behind.
    let token = dev.token();
    let (status, body) = get("http://127.0.0.1:27361/v1/payments", Some(&token));
    assert_eq!(status, 200);
    assert!(body.contains("\"payments\":[]"), "{body}");

    let (code, out, err) = check(&["load", "--rate", "50", "--duration", "3s"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("150 sent, 150 answered 2xx, 0 failed"),
        "{out}"
    );
    assert!(
        !format!("{out}{err}").contains(&token),
        "the token was printed"
    );
    let (status, _) = dev.interrupt();
    assert!(status.success());
}
