//! The run lock (an SSM parameter): concurrent `up`/`down` on one stack, one proceeds and the
//! other names the holder; a stale lock blocks until `--force-unlock`; `plan` takes none.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::census::{census, empty, expected};
use common::gate::Gate;
use common::{Project, Run, clients, moto};

fn lock_name(p: &Project) -> String {
    format!("/stackctl/{}/default/lock", p.name)
}

/// Start `args` through a gate that lets only the lock through: the run then holds the lock
/// and waits at its first change until the gate opens.
async fn start_holding(p: &Project, moto: &str, args: &[&str]) -> (Gate, Child) {
    let gate = Gate::start(moto, Some(1)).await;
    let mut child = p
        .command(&gate.url(), args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while gate.held().is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = Run::from(child.wait_with_output().unwrap());
            panic!(
                "{args:?} ended ({status}) before its first change:\n{}",
                out.all()
            );
        }
        assert!(Instant::now() < deadline, "{args:?} never reached a change");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        gate.writes(),
        ["ssm:PutParameter"],
        "the lock is the first write"
    );
    (gate, child)
}

async fn finish(gate: Gate, child: Child) -> Run {
    gate.open();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    Run::from(out)
}

fn assert_names_holder(run: &Run, command: &str, pid: u32) {
    assert_eq!(run.code, 1, "{}", run.all());
    let holder = format!("is locked by `{command}` by ");
    assert!(run.stderr.contains(&holder), "{}", run.all());
    assert!(
        run.stderr.contains(&format!("(pid {pid})")),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("started "), "age: {}", run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn second_up_stops_naming_the_holder_while_the_first_proceeds() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let (gate, first) = start_holding(&p, &moto, &["up"]).await;
    let pid = first.id();
    let second = p.run(&["up"]);
    assert_names_holder(&second, "up", pid);
    assert!(second.stderr.contains("--lock-timeout"), "{}", second.all());
    assert_eq!(
        census(&moto, &p.name).await["vpc"],
        0,
        "the second run changed nothing"
    );
    finish(gate, first).await.ok();
    assert_eq!(census(&moto, &p.name).await, expected(), "lock released");
    assert_eq!(p.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn up_and_down_at_once_exclude_each_other() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let (gate, up) = start_holding(&p, &moto, &["up"]).await;
    let down = p.run(&["down", "--yes"]);
    assert_names_holder(&down, "up", up.id());
    finish(gate, up).await.ok();

    let (gate, down) = start_holding(&p, &moto, &["down", "--yes"]).await;
    let up = p.run(&["up"]);
    assert_names_holder(&up, "down", down.id());
    let down = finish(gate, down).await.ok();
    assert!(
        down.stdout.contains("Deleted everything"),
        "{}",
        down.stdout
    );
    assert_eq!(
        census(&moto, &p.name).await,
        empty(),
        "down removed the lock last"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_ups_started_together_never_duplicate() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let spawn = || {
        p.command(&moto, &["up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let runs = [a, b].map(|c| Run::from(c.wait_with_output().unwrap()));
    for r in &runs {
        let refused = r.code == 1 && r.stderr.contains("is locked by `up`");
        assert!(r.code == 0 || refused, "{}", r.all());
    }
    assert!(runs.iter().any(|r| r.code == 0), "one of them proceeds");
    eprintln!(
        "two ups at once: exit codes {:?}",
        runs.each_ref().map(|r| r.code)
    );
    assert_eq!(census(&moto, &p.name).await, expected(), "no duplicates");
}

fn stale_lock() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 600;
    serde_json::json!({"who": "ghost@elsewhere", "pid": 4242, "command": "up", "since": since, "id": "ghost"})
        .to_string()
}

async fn put_lock(moto: &str, p: &Project) {
    clients(moto)
        .await
        .ssm
        .put_parameter()
        .name(lock_name(p))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(stale_lock())
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_lock_blocks_until_force_unlock() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    p.run(&["up"]).ok();
    put_lock(&moto, &p).await;

    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "plan takes no lock: {}", plan.all());
    let blocked = p.run(&["up"]);
    assert_names_holder(&blocked, "up", 4242);
    assert!(
        blocked.stderr.contains("ghost@elsewhere"),
        "{}",
        blocked.all()
    );
    assert!(
        blocked.stderr.contains("started 10m"),
        "age: {}",
        blocked.all()
    );
    assert!(
        blocked.stderr.contains("--force-unlock"),
        "{}",
        blocked.all()
    );
    let waited = p.run(&["up", "--lock-timeout", "1"]);
    assert_names_holder(&waited, "up", 4242);
    assert!(waited.stderr.contains("(waited 1s)"), "{}", waited.all());
    let down = p.run(&["down", "--yes"]);
    assert_names_holder(&down, "up", 4242);
    assert_eq!(
        census(&moto, &p.name).await["lock"],
        1,
        "never broken silently"
    );

    let forced = p.run(&["up", "--force-unlock"]).ok();
    assert!(
        forced.stdout.contains(&format!(
            "Breaking the lock of stack {} (env default): held by `up` by ghost@elsewhere (pid 4242)",
            p.name
        )),
        "{}",
        forced.all()
    );
    assert_eq!(
        census(&moto, &p.name).await,
        expected(),
        "broken, then released"
    );
    p.run(&["down", "--yes"]).ok();
    assert_eq!(census(&moto, &p.name).await, empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_timeout_waits_for_the_holder_to_finish() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    put_lock(&moto, &p).await;
    let mut child = p
        .command(&moto, &["up", "--lock-timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Waiting up to 120s for the lock") && line.contains("ghost@") {
                let _ = tx.send(());
            }
            all.push(line);
        }
        all.join("\n")
    });
    // Once it waits, the holder finishes: the lock goes away and the waiting run proceeds.
    let said = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(said.is_ok(), "it said whose lock it waits for");
    clients(&moto)
        .await
        .ssm
        .delete_parameter()
        .name(lock_name(&p))
        .send()
        .await
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let stdout = reader.join().unwrap();
    assert!(
        status.success(),
        "up proceeds once the lock is released:\n{stdout}"
    );
    assert_eq!(census(&moto, &p.name).await, expected());
}
