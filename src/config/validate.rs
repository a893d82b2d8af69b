//! Checks on values: names, CIDRs, Fargate sizes, paths, AWS name limits.

use std::collections::BTreeMap;
use std::path::Path;

use marked_yaml::{Marker, Node};

use super::error::Issues;
use super::fargate::check_fargate;
use super::file::{ServiceFile, StackFile, TokenFile};
use super::model::{Service, Source, Stack, TOKEN_ENV};
use super::network::network;
use super::scaling::MAX_TASKS;
use crate::names::Names;

pub fn resolve(
    f: &StackFile,
    node: &Node,
    env: &str,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Stack> {
    let before = issues.list.len();
    if !is_dns_label(&f.name) {
        issues.at(
            f.name.span(),
            format!("invalid stack name `{}`", *f.name),
            Some(label_hint()),
        );
    }
    if let Some(region) = &f.region
        && !is_region(region)
    {
        issues.at(
            region.span(),
            format!("invalid region `{}`", **region),
            Some("a region code such as `us-east-1` or `eu-west-3`".into()),
        );
    }
    let network = network(f, issues);
    if f.services.is_empty() {
        issues.at(
            f.name.span(),
            "no services defined",
            Some("add `services: { api: { build: apps/api, port: 8080 } }`".into()),
        );
    }
    let mut services = BTreeMap::new();
    for (name, s) in &f.services {
        let key = super::key_mark(node, Some(&format!("services.{name}")));
        if let Some(svc) = service(name, key, s, f.domain.is_some(), dir, issues) {
            services.insert(name.clone(), svc);
        }
    }
    super::routes::across(f, node, issues);
    super::routes::cycles(f, issues);
    let database = f
        .database
        .as_ref()
        .map(|d| super::database::database(d, &f.services, issues));
    let domain = f
        .domain
        .as_ref()
        .map(|d| super::domain::domain(d, f, issues));
    let checks = super::checks::checks(f.checks.as_ref(), issues);
    let ci = f.ci.as_ref().map(|c| super::ci::github(&c.github, issues));
    let names = Names::new(&f.name, env);
    let svc_names: Vec<&str> = f.services.keys().map(String::as_str).collect();
    let mut limits = names.limits(&svc_names);
    if database.is_some() {
        limits.extend(names.database_limits());
    }
    if ci.is_some() {
        limits.extend(names.ci_limits());
    }
    let shifting: Vec<&str> = services
        .values()
        .filter(|s| s.deploy.shifts_traffic())
        .map(|s| s.name.as_str())
        .collect();
    if !shifting.is_empty() {
        limits.extend(names.shifting_limits(&shifting));
        super::deploy::clashes(&names, &svc_names, &shifting, f.name.span(), issues);
    }
    for limit in limits {
        if limit.name.len() > limit.max {
            let over = limit.name.len() - limit.max;
            issues.at(
                f.name.span(),
                format!(
                    "{} `{}` would be {} characters; AWS allows {}",
                    limit.what,
                    limit.name,
                    limit.name.len(),
                    limit.max
                ),
                Some(format!(
                    "shorten the stack, environment or service name by {over} character{}",
                    if over == 1 { "" } else { "s" }
                )),
            );
        }
    }
    for (what, name, prefix) in names.refused_prefixes(&svc_names) {
        issues.at(
            f.name.span(),
            format!("{what} `{name}` would begin with `{prefix}`, which AWS refuses"),
            Some(format!(
                "choose a stack name that does not begin with `{}`",
                prefix.trim_end_matches('-')
            )),
        );
    }
    if issues.list.len() > before {
        return None;
    }
    Some(Stack {
        name: f.name.to_string(),
        env: env.into(),
        region: f.region.as_ref().map(|r| r.to_string()),
        network: network?,
        services,
        database: match database {
            None => None,
            Some(d) => Some(d?),
        },
        domain: match domain {
            None => None,
            Some(d) => Some(d?),
        },
        checks,
        ci: match ci {
            None => None,
            Some(c) => Some(c?),
        },
    })
}

/// Environment names become part of resource names.
pub fn env_name(name: &str, root: &Node, issues: &mut Issues) {
    if is_dns_label(name) {
        return;
    }
    let key = root
        .as_mapping()
        .and_then(|m| m.get_mapping("environments"))
        .and_then(|m| m.keys().find(|k| k.as_str() == name));
    if let Some(key) = key {
        issues.at(
            key.span(),
            format!("invalid environment name `{name}`"),
            Some(label_hint()),
        );
    }
}

fn service(
    name: &str,
    key: Option<Marker>,
    s: &ServiceFile,
    domain: bool,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Service> {
    let before = issues.list.len();
    if !is_dns_label(name) || name.len() > 20 {
        issues.at_marker(
            key,
            format!("invalid service name `{name}`"),
            Some(format!("{} and at most 20 characters", label_hint())),
        );
    }
    let source = match (&s.build, &s.image) {
        (Some(b), None) => {
            let path = dir.join(&**b);
            if !path.join("Cargo.toml").is_file() {
                issues.at(
                    b.span(),
                    format!(
                        "service `{name}`: `{}` is not a Cargo package (no Cargo.toml)",
                        **b
                    ),
                    Some(
                        "point `build:` at a directory with a Cargo.toml, relative to stack.yaml"
                            .into(),
                    ),
                );
            }
            Some(Source::Build(path))
        }
        (None, Some(i)) => {
            if i.trim().is_empty() || i.contains(char::is_whitespace) {
                issues.at(
                    i.span(),
                    format!("service `{name}`: `{}` is not an image reference", **i),
                    Some("e.g. `public.ecr.aws/nginx/nginx:1.27`".into()),
                );
            }
            Some(Source::Image(i.to_string()))
        }
        (Some(b), Some(_)) => {
            issues.at(
                b.span(),
                format!("service `{name}` has both `build` and `image`"),
                Some("keep one: `build` to build from source, `image` for a prebuilt image".into()),
            );
            None
        }
        (None, None) => {
            issues.at_marker(
                key,
                format!("service `{name}` has neither `build` nor `image`"),
                Some("add `build: apps/<name>` or `image: <reference>`".into()),
            );
            None
        }
    };
    if let Some(b) = &s.base {
        if s.build.is_none() {
            issues.at(
                b.span(),
                format!("service `{name}`: `base` goes with `build`"),
                Some("a prebuilt `image` is deployed as it is: remove `base`".into()),
            );
        } else if crate::image::parse_reference(b).is_err() {
            issues.at(
                b.span(),
                format!("service `{name}`: `{}` is not an image reference", **b),
                Some(
                    "e.g. `debian:bookworm-slim` or `public.ecr.aws/docker/library/debian:12-slim`"
                        .into(),
                ),
            );
        }
    }
    if *s.port == 0 {
        issues.at(s.port.span(), "port must be 1 to 65535", None);
    }
    let cpu = s.cpu.as_ref().map(|c| **c).unwrap_or(256);
    let memory = s.memory.as_ref().map(|m| **m).unwrap_or(512);
    check_fargate(name, cpu, memory, s, issues);
    let mut desired = s.desired.as_ref().map(|d| **d).unwrap_or(1);
    if let Some(d) = s.desired.as_ref().filter(|d| ***d > MAX_TASKS) {
        issues.at(
            d.span(),
            format!(
                "desired is {}; stackctl allows at most {MAX_TASKS} tasks per service",
                **d
            ),
            None,
        );
    }
    let scaling = match &s.scaling {
        None => None,
        Some(f) => {
            let checked = super::scaling::scaling(name, s, f, issues);
            if let Some((_, start)) = &checked {
                desired = *start;
            }
            checked.map(|(scaling, _)| scaling)
        }
    };
    let health = s
        .health
        .as_ref()
        .map(|h| h.to_string())
        .unwrap_or_else(|| "/".into());
    if let Some(h) = s
        .health
        .as_ref()
        .filter(|h| !h.starts_with('/') || h.contains(char::is_whitespace))
    {
        issues.at(
            h.span(),
            format!("health path `{}` must start with `/`", **h),
            Some("e.g. `/status`".into()),
        );
    }
    let token = match &s.token {
        None | Some(TokenFile::On(false)) => false,
        Some(TokenFile::On(true)) => true,
        Some(TokenFile::Named(env)) if env.as_str() == TOKEN_ENV => true,
        Some(TokenFile::Named(env)) => {
            issues.at(
                env.span(),
                format!(
                    "the token's variable cannot be `{}`: services read it from `{TOKEN_ENV}`",
                    **env
                ),
                Some("write `token: true`".into()),
            );
            true
        }
    };
    let mut env = BTreeMap::new();
    for (k, v) in &s.env {
        if !is_env_name(k) {
            issues.at(
                v.span(),
                format!("`{k}` is not a valid environment variable name"),
                Some("use letters, digits and `_`".into()),
            );
        }
        if token && (k == TOKEN_ENV || *k == format!("{TOKEN_ENV}_PREVIOUS")) {
            issues.at(
                v.span(),
                format!("`{k}` is the token's variable; secrets never go in `env`"),
                Some("remove it: stackctl injects the token from SSM Parameter Store".into()),
            );
        }
        if crate::plan::task_def::DATABASE_VARS.contains(&k.as_str()) {
            issues.at(
                v.span(),
                format!("`{k}` is set by stackctl from `database:`"),
                Some(
                    "remove it: list the service under `database.services` to give it the database"
                        .into(),
                ),
            );
        }
        env.insert(k.clone(), v.to_string());
    }
    let route = super::routes::route(name, key, s, domain, issues);
    let deploy = match &s.deploy {
        None => Some(super::model::Deploy::Rolling),
        Some(d) => super::deploy::deploy(name, s, d, issues),
    };
    if issues.list.len() > before {
        return None;
    }
    Some(Service {
        name: name.into(),
        source: source?,
        base: s.base.as_ref().map(|b| b.to_string()),
        port: *s.port,
        cpu,
        memory,
        desired,
        health,
        public: s.is_public(),
        route,
        calls: s.calls.iter().map(|c| c.to_string()).collect(),
        token,
        env,
        scaling,
        deploy: deploy?,
    })
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn label_hint() -> String {
    "use lowercase letters, digits and single `-`, starting with a letter".into()
}

pub(super) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()))
}

fn is_env_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}
