//! Hostile stack.yaml: arbitrary text, byte soup, YAML token soup and structured mutations of
//! valid files and deep nesting through `config::parse` (and `load` for raw bytes). Never a panic; every
//! error points at a line and column within the file and says what is wrong; rendering it as
//! the CLI does never panics either. STACKCTL_FUZZ_CASES (default 3000) sets the budget.

use std::cell::Cell;
use std::path::Path;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use stackctl::config::{self, ConfigError};

const SEEDS: &[&str] = &[
    include_str!("../stack.yaml"),
    "name: demo\nservices:\n  api: { build: apps/api, port: 8080 }\n",
    "name: shop\nregion: eu-west-1\nnetwork:\n  cidr: 10.0.0.0/16\n  azs: 3\nservices:\n  web:\n    image: nginx@sha256:0123\n    port: 80\n    public: true\n    env:\n      MODE: prod\n  worker:\n    build: apps/api\n    port: 9000\n    token:\n      env: TOKEN\nenvironments:\n  prod:\n    network: { azs: 2 }\n    services:\n      web: { desired: 4 }\n",
];

const TOKENS: &[&str] = &[
    "name:",
    "services:",
    "environments:",
    "network:",
    "region:",
    "api:",
    "web:",
    "prod:",
    "port:",
    "build:",
    "image:",
    "cpu:",
    "memory:",
    "desired:",
    "health:",
    "public:",
    "token:",
    "env:",
    "cidr:",
    "azs:",
    " ",
    "  ",
    "\n",
    "\t",
    "- ",
    ":",
    ": ",
    ",",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "!!int ",
    "!x ",
    "'",
    "\"",
    "#",
    "|",
    ">",
    "?",
    "<<: ",
    "---",
    "...",
    "%YAML 1.2",
    "8080",
    "0",
    "-1",
    "65536",
    "99999999999999999999",
    "1e9",
    "0x10",
    "~",
    "null",
    "true",
    "yes",
    "\"8080\"",
    "10.42.0.0/16",
    "300.1.2.3/8",
    "/status",
    "apps/api",
    "us-east-1",
    "é",
    "\u{0}",
    "\u{feff}",
    "\r",
    "\\",
    "Ω≈ç√",
    "🦀",
];

/// One edit of a file's lines; indices are taken modulo the length.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, &'static str),
    Replace(usize, &'static str),
    Indent(usize, i8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let token = proptest::sample::select(TOKENS);
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), token.clone()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), token).prop_map(|(a, t)| Edit::Replace(a, t)),
        (any::<usize>(), -4i8..4).prop_map(|(a, d)| Edit::Indent(a, d)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn mutate(seed: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match *e {
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) if !lines.is_empty() => lines.insert(i % n, lines[i % n].clone()),
            Edit::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::Insert(i, t) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let at = line
                    .char_indices()
                    .map(|(i, _)| i)
                    .nth(i % (line.len() + 1));
                line.insert_str(at.unwrap_or(line.len()), t);
            }
            // The value after the first `: ` (or the whole line) becomes the token.
            Edit::Replace(i, t) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                *line = match line.split_once(": ") {
                    Some((k, _)) => format!("{k}: {t}"),
                    None => t.to_string(),
                };
            }
            Edit::Indent(i, d) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                if d > 0 {
                    line.insert_str(0, &" ".repeat(d as usize));
                } else {
                    let strip = line.len() - line.trim_start_matches(' ').len();
                    line.drain(..strip.min(d.unsigned_abs() as usize));
                }
            }
            Edit::Truncate(i) => lines.truncate(i % (n + 1)),
            _ => {}
        }
    }
    lines.join("\n")
}

/// Deep nesting: block mappings, block sequences, flow collections, in a valid file's places.
fn deep() -> impl Strategy<Value = String> {
    let shape = proptest::sample::select(&["map", "seq", "flow", "mixed"][..]);
    let place = proptest::sample::select(&["services", "environments", "network"][..]);
    (shape, place, 1usize..1500).prop_map(|(shape, place, depth)| {
        let body = match shape {
            "map" => (0..depth)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i + 1)))
                .collect(),
            "seq" => format!(" {}x", "- ".repeat(depth)),
            "flow" => format!(" {}{}", "[{a: ".repeat(depth), "}]".repeat(depth)),
            _ => format!(" {}{}", "- a:\n".repeat(depth / 2), "[".repeat(depth)),
        };
        format!("name: demo\n{place}:\n{body}\n")
    })
}

fn text() -> impl Strategy<Value = String> {
    let seed = proptest::sample::select(SEEDS);
    prop_oneof![
        1 => deep(),
        3 => (seed, proptest::collection::vec(edit(), 1..5)).prop_map(|(s, e)| mutate(s, &e)),
        2 => proptest::collection::vec(proptest::sample::select(TOKENS), 0..40).prop_map(|t| t.concat()),
        1 => any::<String>(),
        1 => proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn env() -> impl Strategy<Value = Option<&'static str>> {
    proptest::sample::select(&[None, Some("prod"), Some("default"), Some("nope"), Some("")][..])
}

/// The properties every rejection must have.
fn check_error(text: &str, e: ConfigError) -> Result<(), TestCaseError> {
    // YAML breaks lines at \n, \r\n and a lone \r.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
    match &e {
        ConfigError::Invalid { issues, .. } => {
            prop_assert!(!issues.is_empty(), "invalid without a reason");
            for i in issues {
                prop_assert!(i.line >= 1 && i.column >= 1, "{i}");
                prop_assert!(i.line <= lines + 1, "line {} of {lines}: {i}", i.line);
                prop_assert!(!i.message.trim().is_empty(), "empty message: {i:?}");
                prop_assert!(i.hint.as_ref().is_none_or(|h| !h.trim().is_empty()));
            }
        }
        // About --env, not a place in the file: it says which environments exist.
        ConfigError::UnknownEnvironment { hint, .. } => prop_assert!(!hint.trim().is_empty()),
        ConfigError::Read { .. } => prop_assert!(false, "parse does not read files"),
    }
    // What the CLI prints (source snippet and label included).
    let rendered = format!("{:?}", miette::Report::new(e));
    prop_assert!(!rendered.trim().is_empty());
    Ok(())
}

fn cases() -> u32 {
    std::env::var("STACKCTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn parse_never_panics_and_every_error_points_at_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let start = Instant::now();
    let (accepted, rejected) = (Cell::new(0u32), Cell::new(0u32));
    let result = runner.run(&(text(), env()), |(text, env)| {
        match config::parse(Path::new("stack.yaml"), &text, dir, env) {
            Ok(_) => accepted.set(accepted.get() + 1),
            Err(e) => {
                rejected.set(rejected.get() + 1);
                check_error(&text, e)?;
            }
        }
        Ok(())
    });
    let (accepted, rejected) = (accepted.get(), rejected.get());
    eprintln!(
        "config fuzz: {} cases ({accepted} accepted, {rejected} rejected) in {:.1}s",
        accepted + rejected,
        start.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        accepted > 0 && rejected > 0,
        "the generator reaches both outcomes"
    );
}

#[test]
fn files_that_are_not_utf8_are_rejected_with_a_position() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("stack.yaml");
    let mut runner = TestRunner::new(Config {
        cases: (cases() / 10).max(50),
        failure_persistence: None,
        ..Config::default()
    });
    let seed = proptest::sample::select(SEEDS);
    let bytes = (
        seed,
        any::<usize>(),
        proptest::collection::vec(0x80u8..=0xff, 1..4),
    );
    let result = runner.run(&bytes, |(seed, at, bad)| {
        let mut b = seed.as_bytes().to_vec();
        let at = at % (b.len() + 1);
        b.splice(at..at, bad);
        std::fs::write(&path, &b).unwrap();
        let Err(e) = config::load(&path, None) else {
            return Ok(());
        };
        if std::str::from_utf8(&b).is_err() {
            prop_assert!(!e.issues().is_empty(), "no position for bad UTF-8: {e}");
        }
        let text = String::from_utf8_lossy(&b).into_owned();
        check_error(&text, e)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
