//! `stack.yaml`: read, resolve the chosen environment overlay, validate everything before
//! any AWS call. Every environment in the file is validated, not just the chosen one.

mod checks;
mod ci;
pub use checks::LOAD_DURATION;
mod database;
mod deploy;
mod domain;
mod error;
mod fargate;
mod file;
mod merge;
mod model;
mod network;
pub mod routes;
mod scaling;
mod validate;

use std::path::{Path, PathBuf};

use marked_yaml::{LoadError, LoaderOptions, Node};

pub use error::{ConfigError, ConfigIssue};
pub use model::{
    Checks, Database, Deploy, Domain, GitHub, LoadCheck, Network, Route, Scaling, Service, Source,
    Stack, TOKEN_ENV,
};

use crate::names::DEFAULT_ENV;
use error::{Issues, did_you_mean};
use file::StackFile;

/// Read and validate `path`, resolving environment `env` (None: the base file).
pub fn load(path: &Path, env: Option<&str>) -> Result<Stack, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, e))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parse(path, &text, dir, env)
}

/// Tests of one section: a stack of one public prebuilt-image service, then `extra`.
#[cfg(test)]
pub(crate) fn parse_with(extra: &str, env: Option<&str>) -> Result<Stack, ConfigError> {
    const BASE: &str = "name: demo\nservices:\n  api:\n    image: example.com/api:1\n    port: 8080\n    public: true\n";
    parse(
        Path::new("stack.yaml"),
        &format!("{BASE}{extra}"),
        Path::new("."),
        env,
    )
}

/// Validate `text` as if read from `path`; relative `build:` paths resolve against `dir`.
pub fn parse(path: &Path, text: &str, dir: &Path, env: Option<&str>) -> Result<Stack, ConfigError> {
    let label = path.display().to_string();
    let mut issues = Issues::new(label, text);
    let invalid = |issues: Issues| ConfigError::Invalid {
        path: path.into(),
        issues: issues.list,
    };

    if let Some((line, column, chars)) = too_deep(text) {
        let mark = marked_yaml::Marker::new(0, chars, line, column);
        issues.at_marker(
            Some(mark),
            format!(
                "nesting is too deep (a block starts at column {column}, the limit is {MAX_INDENT})"
            ),
            Some("a stack.yaml nests a few levels: check the indentation".into()),
        );
        return Err(invalid(issues));
    }
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true)
        .toplevel_mapping();
    let root = match marked_yaml::parse_yaml_with_options(0, text, options) {
        Ok(node) => node,
        Err(e) => {
            load_error(&mut issues, e);
            return Err(invalid(issues));
        }
    };
    let Some(base) = typed(&root, &mut issues) else {
        return Err(invalid(issues));
    };

    let envs: Vec<String> = base.environments.keys().cloned().collect();
    if let Some(name) = env.filter(|e| *e != DEFAULT_ENV && !envs.iter().any(|x| x == e)) {
        let hint = did_you_mean(name, envs.iter().map(String::as_str)).unwrap_or_else(|| {
            if envs.is_empty() {
                "this file defines no `environments:`; drop --env to use the base file".into()
            } else {
                format!("environments in this file: {}", envs.join(", "))
            }
        });
        return Err(ConfigError::UnknownEnvironment {
            path: path.into(),
            name: name.into(),
            hint,
        });
    }

    let mut chosen = None;
    let wanted = env.unwrap_or(DEFAULT_ENV);
    if let Some(stack) = validate::resolve(&base, &root, DEFAULT_ENV, dir, &mut issues)
        && wanted == DEFAULT_ENV
    {
        chosen = Some(stack);
    }
    for name in &envs {
        validate::env_name(name, &root, &mut issues);
        let Some(merged) = merge::overlay(&root, name, &mut issues) else {
            continue;
        };
        let Some(file) = typed(&merged, &mut issues) else {
            continue;
        };
        if let Some(stack) = validate::resolve(&file, &merged, name, dir, &mut issues)
            && wanted == name
        {
            chosen = Some(stack);
        }
    }
    match chosen {
        Some(stack) if issues.list.is_empty() => Ok(stack),
        _ => Err(invalid(issues)),
    }
}

/// Where the first byte that is not UTF-8 is, instead of a bare "stream did not contain valid UTF-8".
fn not_utf8(path: &Path, e: std::string::FromUtf8Error) -> ConfigError {
    let bytes = e.as_bytes();
    let valid = String::from_utf8_lossy(&bytes[..e.utf8_error().valid_up_to()]);
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let text = String::from_utf8_lossy(bytes);
    let mut issues = Issues::new(path.display().to_string(), &text);
    let mark = marked_yaml::Marker::new(0, valid.chars().count(), line, column);
    issues.at_marker(
        Some(mark),
        "the file is not valid UTF-8",
        Some("save stack.yaml as UTF-8 text".into()),
    );
    ConfigError::Invalid {
        path: path.into(),
        issues: issues.list,
    }
}

/// Deepest block indentation accepted. The YAML parser recurses once per level without a
/// limit for block collections, so a hostile file could overflow the stack.
const MAX_INDENT: usize = 256;

/// `(line, column, char offset)` of the first line whose block content starts past
/// [`MAX_INDENT`] (leading spaces and `- `, `? `, `: ` indicators each open a level).
fn too_deep(text: &str) -> Option<(usize, usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut line, mut start) = (1, 0);
    while start < chars.len() {
        let mut col = 0;
        loop {
            match chars.get(start + col) {
                Some(' ' | '\t') => col += 1,
                Some('-' | '?' | ':') if matches!(chars.get(start + col + 1), Some(' ' | '\t')) => {
                    col += 2
                }
                _ => break,
            }
            if col > MAX_INDENT {
                return Some((line, col + 1, start + col));
            }
        }
        // YAML ends lines at \n, \r\n or a lone \r.
        let mut i = start + col;
        while i < chars.len() && !matches!(chars[i], '\n' | '\r') {
            i += 1;
        }
        if chars.get(i) == Some(&'\r') && chars.get(i + 1) == Some(&'\n') {
            i += 1;
        }
        (line, start) = (line + 1, i + 1);
    }
    None
}

pub fn default_path() -> PathBuf {
    PathBuf::from("stack.yaml")
}

/// The JSON Schema of stack.yaml, for editors.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(StackFile)).expect("schema serializes")
}

fn typed(node: &Node, issues: &mut Issues) -> Option<StackFile> {
    use marked_yaml::spanned_serde::Error as DeError;
    let e = match marked_yaml::from_node::<StackFile>(node) {
        Ok(f) => return Some(f),
        Err(e) => e,
    };
    let path = e.path().filter(|p| !p.is_empty()).map(str::to_string);
    let at = path
        .as_ref()
        .map(|p| format!(" in `{p}`"))
        .unwrap_or_default();
    let mut mark = e.start_mark();
    let (message, hint) = match &*e {
        DeError::UnknownFieldError(field, expected, _) => {
            let parent = path
                .as_deref()
                .and_then(|p| p.rsplit_once('.'))
                .map(|(p, _)| format!(" in `{p}`"))
                .unwrap_or_default();
            let hint = did_you_mean(field, expected.iter().copied())
                .unwrap_or_else(|| format!("allowed keys here: {}", expected.join(", ")));
            (format!("unknown key `{field}`{parent}"), Some(hint))
        }
        DeError::IntegerParseFailure(err, _) => {
            let value = issues.token_at(mark);
            let msg = match err.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    format!("`{value}` is out of range{at}")
                }
                _ => format!("`{value}` is not a whole number{at}"),
            };
            (
                msg,
                Some("write a plain number, e.g. `port: 8080`".to_string()),
            )
        }
        other => {
            let msg = other.to_string();
            if let Some(key) = msg.strip_prefix("missing field ") {
                // Point at the mapping that lacks the key, not at its first value.
                mark = key_mark(node, path.as_deref()).or(mark);
                (
                    format!("missing key {key}{at}"),
                    Some(
                        "add the key (see `stackctl schema` for every key and its type)"
                            .to_string(),
                    ),
                )
            } else if msg.contains("invalid type") {
                let hint = "check the value's type: numbers unquoted, text quoted if it looks like a number";
                (format!("{msg}{at}"), Some(hint.to_string()))
            } else {
                (format!("{msg}{at}"), None)
            }
        }
    };
    issues.at_marker(mark, message, hint);
    None
}

/// Where the key at `path` (e.g. `services.api`) is written; the document start for the root.
fn key_mark(root: &Node, path: Option<&str>) -> Option<marked_yaml::Marker> {
    let Some(path) = path else {
        return root.as_mapping()?.keys().next()?.span().start().copied();
    };
    let mut node = root;
    let mut found = None;
    for part in path.split('.') {
        let map = node.as_mapping()?;
        let (k, v) = map.iter().find(|(k, _)| k.as_str() == part)?;
        found = k.span().start().copied();
        node = v;
    }
    found
}

fn load_error(issues: &mut Issues, e: LoadError) {
    let (mark, hint) = match &e {
        LoadError::DuplicateKey(inner) => {
            let first = inner
                .prev_key
                .span()
                .start()
                .map(|m| format!("first defined at line {}", m.line()));
            (
                inner.key.span().start().copied(),
                first.map(|f| format!("{f}; keep only one")),
            )
        }
        LoadError::TopLevelMustBeMapping(m) => {
            (Some(*m), Some("start with `name: mystack`".into()))
        }
        LoadError::ScanError(m, _) => (
            Some(*m),
            Some("check indentation (spaces, not tabs) and quoting".into()),
        ),
        LoadError::UnexpectedAnchor(m)
        | LoadError::MappingKeyMustBeScalar(m)
        | LoadError::UnexpectedTag(m) => (
            Some(*m),
            Some("use plain YAML: no anchors, tags or complex keys".into()),
        ),
        _ => (None, None),
    };
    let message = e.to_string();
    let message = message.split(" at ").next().unwrap_or(&message);
    // Scanner messages start with their own "line:column: ".
    let message = message
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == ':')
        .trim_start();
    issues.at_marker(mark, message.to_lowercase(), hint);
}
