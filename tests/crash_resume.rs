//! Crash consistency: `up` is killed (SIGKILL) right after its k-th mutating call, then run
//! again: it ends exactly where an uninterrupted run does (plan: no changes; one of each
//! resource, never two). Then `down` is killed after one of its steps, and `down` again leaves
//! nothing. A gate between stackctl and moto holds every write after the k-th, so the kill
//! lands at an exact step; the matrix is printed. Every other k by default, which half by a
//! seed (printed; STACKCTL_CRASH_SEED replays it), so runs cover every step between them;
//! STACKCTL_CRASH_STEPS=all kills after every k. Also: the reply to each write is lost
//! (committed, then retried), which must never make a duplicate.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::census::{census, duplicates, empty, expected, short};
use common::gate::Gate;
use common::{Project, Run, account_used_ecs, moto};
use futures::StreamExt;

async fn run(p: &Project, endpoint: &str, args: &[&str]) -> Run {
    let mut cmd = p.command(endpoint, args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    Run::from(out.await.unwrap())
}

/// The writes of an uninterrupted run, in order.
async fn writes_of(p: &Project, moto: &str, args: &[&str]) -> Vec<String> {
    let gate = Gate::start(moto, None).await;
    run(p, &gate.url(), args).await.ok();
    gate.writes()
}

/// Run `args`, SIGKILL it once its `k`-th write went through: (last write done, next held,
/// whether it finished first).
/// `reference`: the writes of an uninterrupted run. A write AWS refused and stackctl retried
/// (DeleteCluster while tasks stop) counts too, and how many retries a run needs depends on
/// timing: a run may finish in fewer writes than `k`, having made every kind of write the
/// reference made.
async fn kill_after(
    p: &Project,
    moto: &str,
    args: &[&str],
    k: usize,
    reference: &[String],
) -> (String, String, bool) {
    let gate = Gate::start(moto, Some(k as u64)).await;
    let mut child = p
        .command(&gate.url(), args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while gate.held().is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            let kinds = |w: &[String]| w.iter().cloned().collect::<BTreeSet<String>>();
            let writes = gate.writes();
            assert!(
                status.success() && writes.len() < k + 1 && kinds(&writes) == kinds(reference),
                "{args:?} finished before write {} ({status}), not with fewer retries of the same writes: {writes:?}\nreference: {reference:?}",
                k + 1,
            );
            let last = writes.last().cloned().unwrap_or_default();
            return (
                last,
                "(finished: fewer retries than the reference)".into(),
                true,
            );
        }
        assert!(Instant::now() < deadline, "{args:?} stalled at write {k}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let last = gate.writes().last().cloned().unwrap_or_default();
    (last, gate.held()[0].clone(), false)
}

struct Row {
    k: usize,
    up: String,
    up_outcome: Result<(), String>,
    down_k: usize,
    down: String,
    down_outcome: Result<(), String>,
}

fn step(call: &str) -> String {
    call.split_once(':').map_or(call, |(_, a)| a).to_string()
}

async fn one(
    moto: &str,
    k: usize,
    down_k: usize,
    up_writes: &[String],
    down_writes: &[String],
) -> Row {
    let p = Project::new(moto, "");
    let (last, next, finished) = kill_after(&p, moto, &["up"], k, up_writes).await;
    let mut up_outcome = Ok(());
    let partial = census(moto, &p.name).await;
    if !duplicates(&partial).is_empty() {
        up_outcome = Err(format!("duplicates after the kill: {}", short(&partial)));
    }
    let resumed = run(&p, moto, &["up"]).await;
    // A run that finished released its lock; a killed one left it.
    if !finished && (resumed.code != 1 || !resumed.stderr.contains("is locked by `up`")) {
        up_outcome = Err(format!(
            "the killed run's lock was not reported:\n{}",
            resumed.all()
        ));
    }
    let resumed = run(&p, moto, &["up", "--force-unlock"]).await;
    let plan = run(&p, moto, &["plan", "--detailed-exitcode"]).await;
    let made = census(moto, &p.name).await;
    if resumed.code != 0 {
        up_outcome = Err(format!("resumed up failed:\n{}", resumed.all()));
    } else if !finished && !resumed.stdout.contains("Breaking the lock") {
        up_outcome = Err(format!("lock broken silently:\n{}", resumed.stdout));
    } else if plan.code != 0 {
        up_outcome = Err(format!("not converged:\n{}", plan.stdout));
    } else if made != expected() {
        up_outcome = Err(format!("after resume: {}", short(&made)));
    }

    let (down_last, down_next, _) =
        kill_after(&p, moto, &["down", "--yes"], down_k, down_writes).await;
    let mut down_outcome = Ok(());
    let again = run(&p, moto, &["down", "--yes", "--force-unlock"]).await;
    let left = census(moto, &p.name).await;
    if again.code != 0 {
        down_outcome = Err(format!("down again failed:\n{}", again.all()));
    } else if left != empty() {
        down_outcome = Err(format!("left: {}", short(&left)));
    }
    Row {
        k,
        up: format!("{} | {}", step(&last), step(&next)),
        up_outcome,
        down_k,
        down: format!("{} | {}", step(&down_last), step(&down_next)),
        down_outcome,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_step_up_and_down_resume_without_duplicates() {
    let Some(moto) = moto() else { return };
    let start = Instant::now();
    account_used_ecs(&moto).await;
    let reference = Project::new(&moto, "");
    let up_writes = writes_of(&reference, &moto, &["up"]).await;
    let down_writes = writes_of(&reference, &moto, &["down", "--yes"]).await;
    // The last write is the lock's release: killing after it kills a finished run.
    let (ku, kd) = (up_writes.len() - 1, down_writes.len() - 1);
    assert!(ku >= 13 && kd >= 13, "{up_writes:?}\n{down_writes:?}");
    let parallel = std::env::var("STACKCTL_CRASH_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // Every up step, and every down step (cycled over the up steps); by default every other
    // one, the half the seed picks.
    let all = std::env::var("STACKCTL_CRASH_STEPS").is_ok_and(|v| v == "all");
    let seed: usize = std::env::var("STACKCTL_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::process::id() as usize);
    let cases: Vec<(usize, usize)> = (1..=ku.max(kd))
        .filter(|i| all || (i + seed).is_multiple_of(2))
        .map(|i| (((i - 1) % ku) + 1, ((i - 1) % kd) + 1))
        .collect();
    eprintln!(
        "[crash] {} of {} cases{}",
        cases.len(),
        ku.max(kd),
        if all {
            String::new()
        } else {
            format!(
                " (STACKCTL_CRASH_SEED={seed} replays them; STACKCTL_CRASH_STEPS=all runs every one)"
            )
        }
    );
    let mut rows: Vec<Row> = futures::stream::iter(cases)
        .map(|(k, d)| one(&moto, k, d, &up_writes, &down_writes))
        .buffer_unordered(parallel)
        .collect()
        .await;
    rows.sort_by_key(|r| (r.k, r.down_k));

    let outcome = |o: &Result<(), String>| if o.is_ok() { "ok" } else { "FAIL" };
    let mut table = format!(
        "{:>3}  {:<56} {:<6} {:>3}  {:<50} {}\n",
        "k", "up killed after | held", "resume", "k", "down killed after | held", "down again"
    );
    for r in &rows {
        table += &format!(
            "{:>3}  {:<56} {:<6} {:>3}  {:<50} {}\n",
            r.k,
            r.up,
            outcome(&r.up_outcome),
            r.down_k,
            r.down,
            outcome(&r.down_outcome)
        );
    }
    eprintln!(
        "{table}{} up writes, {} down writes, {} cases in {:.0}s",
        up_writes.len(),
        down_writes.len(),
        rows.len(),
        start.elapsed().as_secs_f64()
    );
    if let Ok(dir) = std::env::var("STACKCTL_TEST_STATE") {
        let _ = std::fs::write(format!("{dir}/crash-resume.txt"), &table);
    }
    let failures: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            let up = r
                .up_outcome
                .as_ref()
                .err()
                .map(|e| format!("up k={}: {e}", r.k));
            let down = (r.down_outcome.as_ref().err()).map(|e| format!("down k={}: {e}", r.down_k));
            up.into_iter().chain(down)
        })
        .collect();
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n\n"));
}

/// Each write's `(action, n-th call of it)`, so every kind of write is hit whatever the order.
fn targets(mut writes: Vec<String>) -> Vec<(String, usize)> {
    writes.sort();
    (0..writes.len())
        .map(|i| {
            let n = writes[..i].iter().filter(|x| **x == writes[i]).count() + 1;
            (writes[i].clone(), n)
        })
        .collect()
}

/// The reply to each write of `up` in turn (each action, each of its calls) is lost after
/// the write committed, so it is retried: `up` still succeeds, with one of each resource.
/// Then the same for `down` (cycled over the up cases): it still leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_reply_to_any_write_never_duplicates() {
    let Some(moto) = moto() else { return };
    account_used_ecs(&moto).await;
    let reference = Project::new(&moto, "");
    let ups = targets(writes_of(&reference, &moto, &["up"]).await);
    let downs = targets(writes_of(&reference, &moto, &["down", "--yes"]).await);
    let cases = (0..ups.len().max(downs.len()))
        .map(|i| (ups[i % ups.len()].clone(), downs[i % downs.len()].clone()));
    let rows = futures::stream::iter(cases).map(|((up_action, up_n), (down_action, down_n))| {
        let moto = moto.clone();
        async move {
            let p = Project::new(&moto, "");
            let gate = Gate::losing_reply(&moto, &up_action, up_n).await;
            let up = run(&p, &gate.url(), &["up"]).await;
            let plan = run(&p, &moto, &["plan", "--detailed-exitcode"]).await;
            let made = census(&moto, &p.name).await;
            let up_outcome = if up.code != 0 {
                Err(format!("up failed:\n{}", up.all()))
            } else if plan.code != 0 || made != expected() {
                Err(format!("{}\n{}", short(&made), plan.stdout))
            } else {
                Ok(())
            };
            let gate = Gate::losing_reply(&moto, &down_action, down_n).await;
            let down = run(&p, &gate.url(), &["down", "--yes", "--force-unlock"]).await;
            let left = census(&moto, &p.name).await;
            let down_outcome = if down.code != 0 || left != empty() {
                Err(format!("left {}:\n{}", short(&left), down.all()))
            } else {
                Ok(())
            };
            Row {
                k: 0,
                up: format!("{} #{up_n}", step(&up_action)),
                up_outcome,
                down_k: 0,
                down: format!("{} #{down_n}", step(&down_action)),
                down_outcome,
            }
        }
    });
    let rows: Vec<Row> = rows.buffer_unordered(3).collect().await;
    let ok = |o: &Result<(), String>| if o.is_ok() { "ok" } else { "FAIL" };
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let (u, d) = (ok(&r.up_outcome), ok(&r.down_outcome));
            format!("{:<36} {u:<4}  {:<30} {d}", r.up, r.down)
        })
        .collect();
    lines.sort();
    let table = format!(
        "{:<36} {:<4}  {:<30} {}\n{}\n",
        "up: reply lost of",
        "up",
        "down: reply lost of",
        "down",
        lines.join("\n")
    );
    eprintln!("{table}");
    let failures: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            let up = r
                .up_outcome
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", r.up));
            let down = r
                .down_outcome
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", r.down));
            up.into_iter().chain(down)
        })
        .collect();
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n\n"));
}
