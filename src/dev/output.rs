//! The terminal: each service's lines behind its name, one colour per service (when the
//! output is a terminal and NO_COLOR is unset), stackctl's own lines behind `dev`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

const COLOURS: [&str; 6] = ["36", "33", "35", "32", "34", "31"];
const OWN: &str = "dev";

#[derive(Clone)]
pub struct Output {
    inner: Arc<Inner>,
}

struct Inner {
    colour: bool,
    width: usize,
    names: Vec<String>,
}

impl Output {
    pub fn new(names: &[String]) -> Output {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let width = names
            .iter()
            .map(|n| n.len())
            .chain([OWN.len(), "build".len()])
            .max()
            .unwrap_or(3);
        Output {
            inner: Arc::new(Inner {
                colour,
                width,
                names: names.to_vec(),
            }),
        }
    }

    /// A line of service `name` (or of `build`).
    pub fn line(&self, name: &str, text: &str) {
        let colour = self
            .inner
            .names
            .iter()
            .position(|n| n == name)
            .map(|i| COLOURS[i % COLOURS.len()]);
        self.write(name, colour, text);
    }

    /// stackctl's own line.
    pub fn say(&self, text: &str) {
        self.write(OWN, Some("1"), text);
    }

    fn write(&self, name: &str, colour: Option<&str>, text: &str) {
        let width = self.inner.width;
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe whose reader left) must not stop the services.
        let _ = match (self.inner.colour, colour) {
            (true, Some(c)) => writeln!(out, "\x1b[{c}m{name:>width$} |\x1b[0m {text}"),
            _ => writeln!(out, "{name:>width$} | {text}"),
        };
        let _ = out.flush();
    }
}
