//! Live per-resource progress with elapsed time: spinners on a terminal, plain lines otherwise.
//!
//! On a terminal only the tasks still running are live spinners; every finished task and
//! every other line is printed above them as an ordinary line, so the terminal ends with the
//! same record as a log (a finished spinner left in the live area is redrawn, and erased,
//! with it).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub struct Progress {
    start: Instant,
    bars: Option<MultiProgress>,
    /// Plain lines go to stderr (stdout is kept for what the user asked to see).
    stderr: bool,
}

macro_rules! line {
    ($self:expr, $($arg:tt)*) => {
        if $self.stderr { eprintln!($($arg)*) } else { println!($($arg)*) }
    };
}

pub struct Task {
    label: String,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Progress {
        let tty = std::io::stdout().is_terminal() && std::env::var_os("CI").is_none();
        Progress {
            start: Instant::now(),
            bars: tty.then(MultiProgress::new),
            stderr: false,
        }
    }

    /// Progress on stderr only, for commands whose stdout is data (a token).
    pub fn on_stderr() -> Progress {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress {
            start: Instant::now(),
            bars: tty.then(MultiProgress::new),
            stderr: true,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// A line that is not about one resource.
    pub fn say(&self, line: &str) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(line);
            }
            None => line!(self, "{line}"),
        }
    }

    pub fn start(&self, label: String) -> Task {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"),
            );
            bar.set_message(label.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            line!(self, "  {label} ...");
        }
        Task {
            label,
            started: Instant::now(),
            bar,
        }
    }

    /// What a long task is doing now: on the spinner, or (plain output) a line per change.
    pub fn update(&self, task: &Task, status: &str) {
        match &task.bar {
            Some(bar) => bar.set_message(format!("{}: {status}", task.label)),
            None => line!(
                self,
                "  {}: {status} ({:.0}s)",
                task.label,
                task.started.elapsed().as_secs_f64()
            ),
        }
    }

    pub fn finish(&self, task: Task, outcome: &str) {
        let line = format!(
            "{} {}: {outcome} ({:.1}s)",
            if outcome.starts_with("failed") {
                "✗"
            } else {
                "✓"
            },
            task.label,
            task.started.elapsed().as_secs_f64()
        );
        match (task.bar, &self.bars) {
            (Some(bar), Some(m)) => {
                bar.finish_and_clear();
                m.remove(&bar);
                let _ = m.println(line);
            }
            _ => line!(self, "{line}"),
        }
    }
}
