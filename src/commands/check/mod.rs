//! `stackctl check smoke|load|resilience`: call the deployed stack as its users do. The
//! target is the stack's own URL (read from its domain or load balancer), the one given with
//! `--url`, or `stackctl dev`'s front with `--dev`; the token is read from SSM as
//! `stackctl token` does.

mod resilience;

use std::process::ExitCode;

use super::{Failure, connect, current_token, load, unknown_service};
use crate::check::report::{self, Thresholds};
use crate::check::{self, Target, load as generator, smoke};
use crate::cli::{CheckArgs, CheckKind, Cli, LoadArgs, Output, TargetArgs};
use crate::config::{Route, Stack};
use crate::engine::converge::url_of;
use crate::engine::observe;

pub async fn run(cli: &Cli, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    match &args.check {
        CheckKind::Smoke(t) => {
            let (target, svc) = target(cli, &stack, t).await?;
            if let Some(route) = &stack.services[&svc].route {
                return Err(Failure::Usage(format!(
                    "service `{svc}` takes only the requests of its route ({}): smoke checks the service that takes `/`",
                    describe(route)
                )));
            }
            let client = check::client(t.request_timeout.0, 4)?;
            let steps = smoke::run(&client, &target).await;
            let failed = steps.iter().any(|s| s.verdict == smoke::Verdict::Fail);
            match t.output {
                Output::Text => print!("{}", report::smoke_text(target.url.as_str(), &steps)),
                Output::Json => println!(
                    "{}",
                    serde_json::json!({ "url": target.url.as_str(), "passed": !failed, "steps": steps })
                ),
            }
            Ok(ExitCode::from(u8::from(failed)))
        }
        CheckKind::Load(a) => load_check(cli, &stack, a).await,
        CheckKind::Resilience(a) => resilience::run(cli, &stack, a).await,
    }
}

async fn load_check(cli: &Cli, stack: &Stack, a: &LoadArgs) -> Result<ExitCode, Failure> {
    let (target, svc) = target(cli, stack, &a.target).await?;
    let defaults = &stack.checks.load;
    let rate = a.rate.unwrap_or(defaults.rate);
    let duration = a.duration.map_or(defaults.duration, |d| d.0);
    let thresholds = Thresholds {
        max_errors_percent: a.max_errors.unwrap_or(defaults.max_errors_percent),
        max_p99_ms: a.max_p99.or(defaults.max_p99_ms),
    };
    let path = path(stack, &svc, &target, a.path.as_deref())?;
    let client = check::client(a.target.request_timeout.0, 256)?;
    eprintln!(
        "Load check of {}: GET {path}, {rate} requests a second for {} s…",
        target.url,
        duration.as_secs()
    );
    let until = tokio::time::sleep(duration);
    let run = generator::run(&client, &target, &path, rate, until, report::progress).await;
    let passed = report::verdicts(&run, &thresholds)
        .iter()
        .all(|(ok, _)| *ok);
    let url = target.url.as_str();
    match a.target.output {
        Output::Text => print!("{}", report::load_text(url, &run, &thresholds)),
        Output::Json => println!("{}", report::load_json(url, &run, &thresholds)),
    }
    Ok(ExitCode::from(u8::from(!passed)))
}

/// The path load calls: the one given (inside the service's route, when it has one), else
/// `/` with the token (the API's own answer), else the health path.
fn path(stack: &Stack, svc: &str, target: &Target, given: Option<&str>) -> Result<String, Failure> {
    let s = &stack.services[svc];
    if let Some(route) = &s.route {
        let inside = |p: &str| {
            let p = p.split('?').next().unwrap_or(p);
            route.paths.is_empty()
                || route
                    .paths
                    .iter()
                    .any(|r| crate::config::routes::wildcard(r, p))
        };
        let host_ok = route.host.as_deref().is_none_or(|h| {
            crate::config::routes::wildcard(h, target.url.host_str().unwrap_or(""))
        });
        return match given {
            Some(p) if inside(p) && host_ok => Ok(p.into()),
            _ => Err(Failure::Usage(format!(
                "service `{svc}` takes only the requests of its route ({}): give --path inside it{}",
                describe(route),
                if host_ok {
                    ""
                } else {
                    " and --url with its host"
                }
            ))),
        };
    }
    Ok(match given {
        Some(p) => p.into(),
        None if s.token && target.token.is_some() => "/".into(),
        None => target.health.clone(),
    })
}

fn describe(route: &Route) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &route.host {
        parts.push(format!("host {h}"));
    }
    if !route.paths.is_empty() {
        parts.push(format!("paths {}", route.paths.join(", ")));
    }
    parts.join(", ")
}

/// The service checked: the one named, or the public one that takes `/` (no route).
fn service(stack: &Stack, named: Option<&str>) -> Result<String, Failure> {
    if let Some(n) = named {
        return match stack.services.get(n) {
            Some(s) if s.public => Ok(n.into()),
            Some(_) => Err(Failure::Usage(format!(
                "service `{n}` is not public: the load balancer does not reach it"
            ))),
            None => Err(unknown_service(stack, n)),
        };
    }
    stack
        .services
        .values()
        .find(|s| s.public && s.route.is_none())
        .map(|s| s.name.clone())
        .ok_or_else(|| Failure::Usage("no service takes `/`: name one with --service".into()))
}

/// The target: its URL, the service's health path and token, and the service.
async fn target(cli: &Cli, stack: &Stack, t: &TargetArgs) -> Result<(Target, String), Failure> {
    let svc = service(stack, t.service.as_deref())?;
    let given = t.url.as_deref().map(check::parse_url).transpose()?;
    let health = stack.services[&svc].health.clone();
    let has_token = stack.services[&svc].token;
    let target = if t.dev {
        let front = format!("http://127.0.0.1:{}/", crate::cli::DEV_PORT);
        let token = match has_token {
            true => Some(crate::dev::token(&super::stack_dir(cli), &svc)?),
            false => None,
        };
        Target {
            url: given.map_or_else(|| check::parse_url(&front), Ok)?,
            health,
            token,
        }
    } else {
        let aws = match given.is_none() || has_token {
            true => Some(connect(cli, stack).await?),
            false => None,
        };
        let url = match (given, &aws) {
            (Some(u), _) => u,
            (None, Some(aws)) => {
                let seen = observe(aws, stack).await?;
                let url = url_of(&seen.resources).ok_or_else(|| Failure::Other {
                    message: format!("stack {} (env {}) has no URL yet", stack.name, stack.env),
                    hint: Some("run `stackctl up` first, or give the address with --url".into()),
                })?;
                check::parse_url(&url)?
            }
            (None, None) => unreachable!("connected when no URL is given"),
        };
        let token = match (&aws, has_token) {
            (Some(aws), true) => Some(current_token(aws, stack, &svc).await?),
            _ => None,
        };
        Target { url, health, token }
    };
    if let Some(w) = check::plain_http_warning(&target) {
        eprintln!("{w}");
    }
    Ok((target, svc))
}

impl From<check::CheckError> for Failure {
    fn from(e: check::CheckError) -> Failure {
        Failure::Other {
            hint: Some(e.hint()),
            message: e.to_string(),
        }
    }
}
