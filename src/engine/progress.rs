//! Live per-resource progress with elapsed time: spinners on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub struct Progress {
    start: Instant,
    bars: Option<MultiProgress>,
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
            None => println!("{line}"),
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
            println!("  {label} ...");
        }
        Task {
            label,
            started: Instant::now(),
            bar,
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
        match task.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::with_template("{msg}").expect("template"));
                bar.finish_with_message(line);
            }
            None => println!("{line}"),
        }
    }
}
