//! Checks on how services are reached: `public:` (the load balancer's default, or a route by
//! path and host) and `calls:` (private service-to-service traffic by name).
//!
//! Route values follow the load balancer's rule conditions (ELB User Guide, "Listener rules
//! for your Application Load Balancer": path patterns and host names of at most 128
//! characters, `*` and `?` wildcards, at most five condition values per rule).

use std::collections::BTreeMap;

use marked_yaml::{Marker, Node, Spanned};

use super::error::{Issues, did_you_mean};
use super::file::{PublicFile, ServiceFile, StackFile};
use super::model::Route;

/// The longest path pattern or host name a rule condition takes.
pub const MAX_VALUE: usize = 128;
/// Condition values (paths and host together) one rule can hold, and wildcards in them.
pub const MAX_VALUES: usize = 5;
pub const MAX_WILDCARDS: usize = 5;

/// Characters a path pattern may hold besides letters and digits.
const PATH_CHARS: &str = "_-.$/~\"'@:+&*?";

/// The route of a service that is `public: { paths, host }`; None when it is not routed (or
/// the route is invalid).
pub(super) fn route(
    name: &str,
    key: Option<Marker>,
    s: &ServiceFile,
    domain: bool,
    issues: &mut Issues,
) -> Option<Route> {
    let Some(PublicFile::Route(r)) = &s.public else {
        return None;
    };
    let before = issues.list.len();
    let mut paths = Vec::new();
    for p in &r.paths {
        check_path(p, issues);
        paths.push(p.to_string());
    }
    let host = r.host.as_ref().map(|h| {
        let host = host_of(h);
        check_host(&host, h, issues);
        if domain {
            issues.at(
                h.span(),
                format!("service `{name}` is routed by host `{host}`, but the stack has `domain:`"),
                Some(
                    "the certificate covers only `domain:`: route this service by `paths` instead"
                        .into(),
                ),
            );
        }
        host
    });
    let count = paths.len() + usize::from(host.is_some());
    if count == 0 {
        issues.at_marker(
            key,
            format!("service `{name}` has `public:` with neither `paths` nor `host`"),
            Some("e.g. `public: { paths: [\"/users\", \"/users/*\"] }`, or `public: true`".into()),
        );
    }
    if count > MAX_VALUES {
        let at = r
            .paths
            .get(MAX_VALUES)
            .and_then(|p| p.span().start().copied());
        issues.at_marker(
            at.or(key),
            format!("service `{name}`'s route has {count} paths and hosts; a load balancer rule holds {MAX_VALUES}"),
            Some("use wildcards (`/users*`) to cover several paths with one pattern".into()),
        );
    }
    let wildcards = paths
        .iter()
        .chain(host.iter())
        .flat_map(|v| v.chars())
        .filter(|c| matches!(c, '*' | '?'))
        .count();
    if wildcards > MAX_WILDCARDS && count <= MAX_VALUES {
        issues.at_marker(
            key,
            format!("service `{name}`'s route has {wildcards} wildcards; a load balancer rule takes {MAX_WILDCARDS}"),
            Some("use fewer `*` and `?`, e.g. one `/users*` instead of `/users/*` and `/users?*`".into()),
        );
    }
    if issues.list.len() > before {
        return None;
    }
    Some(Route { paths, host })
}

fn check_path(p: &Spanned<String>, issues: &mut Issues) {
    let bad = p
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !PATH_CHARS.contains(*c));
    let problem = if !p.starts_with('/') {
        Some(format!("path `{}` must start with `/`", **p))
    } else if p.len() > MAX_VALUE {
        Some(format!(
            "path `{}…` is {} characters; a rule takes {MAX_VALUE}",
            p.chars().take(24).collect::<String>(),
            p.len()
        ))
    } else {
        bad.map(|c| {
            format!(
                "path `{}` holds `{c}`, which a load balancer rule refuses",
                **p
            )
        })
    };
    if let Some(problem) = problem {
        let hint =
            "letters, digits and `_-.$/~\"'@:+&`, with `*` and `?` as wildcards, e.g. `/users/*`";
        issues.at(p.span(), problem, Some(hint.into()));
    }
}

/// A host as a rule compares it: no trailing dot, lowercase (ELB matches hosts without case).
fn host_of(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}

fn check_host(host: &str, h: &Spanned<String>, issues: &mut Issues) {
    let ok = !host.is_empty()
        && host.len() <= MAX_VALUE
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.*?".contains(c))
        && host.contains('.')
        && host.split('.').all(|l| !l.is_empty())
        // The top-level label is letters (or wildcards): no IP address, no `example.123`.
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic() || "*?".contains(c)));
    if !ok {
        issues.at(
            h.span(),
            format!("`{}` is not a host name a load balancer rule takes", **h),
            Some("e.g. `admin.example.com`, or `*.example.com` (at most 128 characters)".into()),
        );
    }
}

/// Checks across services: one default public service, routes that differ, and `calls:`
/// naming other services of the stack.
pub(super) fn across(f: &StackFile, node: &Node, issues: &mut Issues) {
    let key = |name: &str| super::key_mark(node, Some(&format!("services.{name}")));
    let defaults: Vec<&String> = f
        .services
        .iter()
        .filter(|(_, s)| matches!(s.public, Some(PublicFile::On(true))))
        .map(|(n, _)| n)
        .collect();
    for name in defaults.iter().skip(1) {
        issues.at_marker(
            key(name),
            format!(
                "services `{}` and `{name}` are both `public: true`",
                defaults[0]
            ),
            Some(format!(
                "one service takes the requests no route matches; give `{name}` a route, e.g. `public: {{ paths: [\"/{name}\", \"/{name}/*\"] }}`"
            )),
        );
    }
    let mut seen: BTreeMap<(Option<String>, Vec<String>), &str> = BTreeMap::new();
    for (name, s) in &f.services {
        let Some(PublicFile::Route(r)) = &s.public else {
            continue;
        };
        let mut paths: Vec<String> = r.paths.iter().map(|p| p.to_string()).collect();
        paths.sort();
        let host = r.host.as_ref().map(|h| host_of(h));
        if let Some(first) = seen.insert((host, paths), name) {
            issues.at_marker(
                key(name),
                format!("services `{first}` and `{name}` have the same route"),
                Some("give each routed service its own paths or host".into()),
            );
        }
    }
    let names: Vec<&str> = f.services.keys().map(String::as_str).collect();
    for (name, s) in &f.services {
        let mut listed = Vec::new();
        for callee in &s.calls {
            let c = callee.as_str();
            let problem = if c == name {
                Some((
                    format!("service `{name}` calls itself"),
                    "remove it: a service reaches itself without `calls`".to_string(),
                ))
            } else if !names.contains(&c) {
                let hint = did_you_mean(c, names.iter().copied())
                    .unwrap_or_else(|| format!("services in this file: {}", names.join(", ")));
                Some((
                    format!("service `{name}` calls `{c}`, which is not a service of this stack"),
                    hint,
                ))
            } else if listed.contains(&c) {
                Some((
                    format!("service `{name}` lists `{c}` twice in `calls`"),
                    "list each service once".to_string(),
                ))
            } else {
                None
            };
            if let Some((message, hint)) = problem {
                issues.at(callee.span(), message, Some(hint));
            }
            listed.push(c);
            let var = url_var(c);
            if crate::plan::task_def::DATABASE_VARS.contains(&var.as_str()) || var == "DATABASE_URL"
            {
                issues.at(
                    callee.span(),
                    format!("calling `{c}` would set `{var}`, which the database's settings use"),
                    Some(format!("rename the service `{c}` (e.g. `{c}-api`)")),
                );
            }
            if let Some(v) = s.env.get(&var) {
                issues.at(
                    v.span(),
                    format!("`{var}` is set by stackctl from `calls: [{c}]`"),
                    Some("remove it from `env`: stackctl gives the address it registers".into()),
                );
            }
        }
    }
}

/// A loop in `calls:` (a calls b, b calls a): each callee's security group would need the
/// other to exist first.
pub(super) fn cycles(f: &StackFile, issues: &mut Issues) {
    let calls = |n: &str| -> Vec<String> {
        f.services
            .get(n)
            .map(|s| s.calls.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default()
    };
    for (name, s) in &f.services {
        // Depth-first from each callee: does it lead back to `name`?
        for start in &s.calls {
            let (mut stack, mut seen) = (vec![start.to_string()], vec![]);
            let mut back = false;
            while let Some(n) = stack.pop() {
                if n == *name {
                    back = true;
                    break;
                }
                if !seen.contains(&n) {
                    stack.extend(calls(&n));
                    seen.push(n);
                }
            }
            if back && start.as_str() != name {
                issues.at(
                    start.span(),
                    format!("`{name}` calls `{}`, which calls `{name}` back (directly or through others)", start.as_str()),
                    Some("stackctl does not support loops in `calls` yet: let one of them stop calling, or go through a public route".into()),
                );
                return;
            }
        }
    }
}

/// The variable a caller finds a callee's address in: `users` → `USERS_URL`.
pub fn url_var(callee: &str) -> String {
    format!("{}_URL", callee.to_ascii_uppercase().replace('-', "_"))
}

/// Whether `text` matches an ELB condition pattern: `*` any run of characters (none too), `?`
/// exactly one. (IAM's wildcards in ARNs and actions match the same way.)
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
