//! What a person at a terminal is left with: `up`, `rotate-token` and `down` run in a real
//! terminal (tmux, 150x60, history kept) must end with the same record as their output piped
//! to a file: the plan, and one line per finished resource, above nothing but the summary.
//! Live spinners that redraw over finished lines would erase them.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Project, moto};

/// A tmux server of our own (its own socket), removed when dropped.
struct Tmux {
    socket: String,
    _conf: tempfile::NamedTempFile,
}

impl Tmux {
    fn start() -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none(),
                "tmux is not installed: run ./scripts/test.sh"
            );
            eprintln!("skipped: no tmux");
            return None;
        }
        let conf = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(conf.path(), "set -g history-limit 100000\n").unwrap();
        Some(Tmux {
            socket: format!("stackctl-test-{}", std::process::id()),
            _conf: conf,
        })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f"])
            .arg(self._conf.path())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `cmd` (its program, arguments, directory and environment) in a new 150x60
    /// window and returns the rows of its whole screen record (scrollback included, trailing
    /// blanks trimmed) once it exited.
    fn run(&self, name: &str, cmd: &Command, dir: &Path) -> (i32, Screen) {
        let script = dir.join(format!("{name}.sh"));
        let mut text = String::from("#!/bin/bash\n");
        for (k, v) in cmd.get_envs() {
            let k = k.to_string_lossy();
            match v {
                Some(v) => text.push_str(&format!("export {k}='{}'\n", v.to_string_lossy())),
                None => text.push_str(&format!("unset {k}\n")),
            }
        }
        text.push_str("export TERM=xterm-256color\nunset CI\n");
        text.push_str(&format!(
            "cd '{}'\n'{}'",
            cmd.get_current_dir().unwrap().display(),
            cmd.get_program().to_string_lossy()
        ));
        for a in cmd.get_args() {
            text.push_str(&format!(" '{}'", a.to_string_lossy()));
        }
        text.push_str("\necho \"__EXIT__$?\"\nsleep 600\n");
        std::fs::write(&script, text).unwrap();
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "150",
            "-y",
            "60",
            &format!("bash {}", script.display()),
        ]);
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            // Rows as they are on the screen (no -J: a person sees rows, not log lines).
            let screen = self.tmux(&["capture-pane", "-p", "-S", "-", "-t", name]);
            if let Some((record, rest)) = screen.split_once("__EXIT__") {
                let code = rest
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(-1);
                self.tmux(&["kill-session", "-t", name]);
                let rows = record.lines().map(|l| l.trim_end().to_string()).collect();
                return (code, Screen(rows));
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not finish:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

const WIDTH: usize = 150;

/// The rows of a terminal's record.
struct Screen(Vec<String>);

impl Screen {
    /// Whether `line` is on the screen: on a row of its own, or (longer than the terminal is
    /// wide) wrapped over consecutive rows.
    fn shows(&self, line: &str) -> bool {
        let chars: Vec<char> = line.chars().collect();
        let parts: Vec<String> = chars.chunks(WIDTH).map(|c| c.iter().collect()).collect();
        let parts: Vec<&str> = parts.iter().map(|p| p.trim_end()).collect();
        self.0
            .windows(parts.len().max(1))
            .any(|rows| rows.iter().zip(&parts).all(|(r, p)| r == p))
    }
    fn rows_starting(&self, prefix: &str) -> usize {
        self.0.iter().filter(|r| r.starts_with(prefix)).count()
    }
    fn has(&self, text: &str) -> bool {
        self.0.iter().any(|r| r.contains(text))
    }
}

impl std::fmt::Display for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// Lines of the same command's record piped to a file that must be on the terminal too.
fn assert_same_record(what: &str, piped: &[&str], screen: &Screen) {
    let missing: Vec<&&str> = piped.iter().filter(|l| !screen.shows(l)).collect();
    assert!(
        missing.is_empty(),
        "{what}: {} lines of the record are missing on the terminal:\n{}\n--- terminal:\n{screen}",
        missing.len(),
        missing
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `+ vpc demo-default (vpc/main)`: a change of a plan.
fn is_plan_line(l: &str) -> bool {
    ["+ ", "~ ", "- ", "! "].iter().any(|s| l.starts_with(s))
}

#[tokio::test]
async fn up_rotate_token_and_down_leave_their_whole_record_on_the_terminal() {
    let Some(moto) = moto() else {
        return;
    };
    let Some(tmux) = Tmux::start() else {
        return;
    };
    let p = Project::new(&moto, "");
    // What `up` will do, piped: its plan lines.
    let plan = p.run(&["plan"]).ok();
    let plan_lines: Vec<String> = plan
        .stdout
        .lines()
        .filter(|l| is_plan_line(l))
        .map(|l| l.trim_end().to_string())
        .collect();
    assert!(plan_lines.len() > 10, "{}", plan.stdout);

    let (code, screen) = tmux.run("up", &p.command(&moto, &["up"]), p.path());
    assert_eq!(code, 0, "{screen}");
    let plan_refs: Vec<&str> = plan_lines.iter().map(String::as_str).collect();
    assert_same_record("up (plan)", &plan_refs, &screen);
    let done = screen.rows_starting("✓ create ");
    assert_eq!(
        done,
        plan_lines.len(),
        "up: a ✓ line for each planned change:\n{screen}"
    );
    assert!(screen.has("Applied ") && screen.has("Done in "), "{screen}");

    let (code, screen) = tmux.run(
        "rotate",
        &p.command(&moto, &["rotate-token", "api"]),
        p.path(),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.rows_starting("✓ ") >= 2,
        "rotate-token keeps its finished steps:\n{screen}"
    );

    // down: the plan of deletions, then a ✓ for each.
    let (code, screen) = tmux.run("down", &p.command(&moto, &["down", "--yes"]), p.path());
    assert_eq!(code, 0, "{screen}");
    let planned = screen.rows_starting("- ");
    assert!(planned > 10, "down shows its plan:\n{screen}");
    assert_eq!(
        screen.rows_starting("✓ delete "),
        planned,
        "a ✓ line per deletion:\n{screen}"
    );
    assert!(screen.has("Deleted everything"), "{screen}");
}
