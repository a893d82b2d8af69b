//! `stackctl check smoke|load|resilience`: call the deployed stack as its users do. The
//! target is the stack's own URL (read from its load balancer or domain) or the one given
//! with `--url`; the token is read from SSM as `stackctl token` does.

use std::process::ExitCode;

use super::{Failure, connect, current_token, load, unknown_service};
use crate::check::report::{self, Thresholds};
use crate::check::{self, Target, load as generator, smoke};
use crate::cli::{CheckArgs, CheckKind, Cli, LoadArgs, Output, TargetArgs};
use crate::config::Stack;
use crate::engine::converge::url_of;
use crate::engine::observe;

pub async fn run(cli: &Cli, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    match &args.check {
        CheckKind::Smoke(t) => {
            let (target, _) = target(cli, &stack, t).await?;
            let client = check::client(&target, t.request_timeout.0, 4)?;
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
        CheckKind::Resilience(a) => super::resilience::run(cli, &stack, a).await,
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
    let path = a
        .path
        .clone()
        .unwrap_or_else(|| default_path(stack, &svc, &target));
    let client = check::client(&target, a.target.request_timeout.0, 256)?;
    eprintln!(
        "Load check of {}: GET {path}, {rate} requests a second for {} s…",
        target.url,
        duration.as_secs()
    );
    let run = generator::run(
        &client,
        &target,
        &path,
        rate,
        tokio::time::sleep(duration),
        progress,
    )
    .await;
    let passed = report::verdicts(&run, &thresholds)
        .iter()
        .all(|(ok, _)| *ok);
    match a.target.output {
        Output::Text => print!(
            "{}",
            report::load_text(target.url.as_str(), &run, &thresholds)
        ),
        Output::Json => println!(
            "{}",
            report::load_json(target.url.as_str(), &run, &thresholds)
        ),
    }
    Ok(ExitCode::from(u8::from(!passed)))
}

/// One line a second on standard error.
pub fn progress(s: &generator::Second, total: &check::stats::Tally) {
    eprintln!(
        "  {:>4} s  {:>6} sent  {:>6} ok  {:>5} failed   (total {} sent, {} failed, p99 {})",
        s.at,
        s.sent,
        s.ok,
        s.failed,
        total.sent,
        total.failures(),
        check::stats::ms(total.latency().p99_ms)
    );
}

/// The path a load run calls: `/` with the token (the API's own answer), else the health path.
pub fn default_path(stack: &Stack, svc: &str, target: &Target) -> String {
    match stack.services[svc].token && target.token.is_some() {
        true => "/".into(),
        false => target.health.clone(),
    }
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

/// The target: its URL, the service's health path and token. The connection to AWS too,
/// when one was needed (the URL or the token come from the account).
pub async fn target(cli: &Cli, stack: &Stack, t: &TargetArgs) -> Result<(Target, String), Failure> {
    let svc = service(stack, t.service.as_deref())?;
    let given = t.url.as_deref().map(check::parse_url).transpose()?;
    let health = stack.services[&svc].health.clone();
    if t.dev {
        let url = match given {
            Some(u) => u,
            None => check::parse_url(&format!("http://127.0.0.1:{}/", crate::cli::DEV_PORT))?,
        };
        let token = match stack.services[&svc].token {
            true => Some(crate::dev::token(&super::stack_dir(cli), &svc)?),
            false => None,
        };
        return Ok((Target { url, health, token }, svc));
    }
    let needs_aws = given.is_none() || stack.services[&svc].token;
    let aws = match needs_aws {
        true => Some(connect(cli, stack).await?),
        false => None,
    };
    let url = match given {
        Some(u) => u,
        None => {
            let aws = aws.as_ref().expect("connected");
            let seen = observe(aws, stack).await?;
            let url = url_of(&seen.resources).ok_or_else(|| Failure::Other {
                message: format!("stack {} (env {}) has no URL yet", stack.name, stack.env),
                hint: Some("run `stackctl up` first, or give the address with --url".into()),
            })?;
            check::parse_url(&url)?
        }
    };
    let token = match (stack.services[&svc].token, &aws) {
        (true, Some(aws)) => Some(current_token(aws, stack, &svc).await?),
        _ => None,
    };
    Ok((Target { url, health, token }, svc))
}

impl From<check::CheckError> for Failure {
    fn from(e: check::CheckError) -> Failure {
        Failure::Other {
            hint: Some(e.hint()),
            message: e.to_string(),
        }
    }
}
