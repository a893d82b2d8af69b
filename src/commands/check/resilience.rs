//! `stackctl check resilience`: load at a constant rate while one of the service's tasks is
//! stopped through ECS, as a crash or a Fargate maintenance retirement would stop it. The
//! goal is no failed request: the load balancer stops sending new requests to a target as
//! it starts draining, the task gets SIGTERM and finishes what it has, and ECS starts a
//! replacement because the service runs fewer tasks than desired.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::{path, target};
use crate::aws::{self, Aws};
use crate::check::report;
use crate::check::{self, load as generator};
use crate::cli::{Cli, Output, ResilienceArgs};
use crate::commands::{Failure, connect};
use crate::config::Stack;

/// Load before the stop and after the recovery, so both ends are measured.
const MARGIN: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_secs(2);

pub async fn run(cli: &Cli, stack: &Stack, a: &ResilienceArgs) -> Result<ExitCode, Failure> {
    if a.target.dev {
        return Err(Failure::Usage(
            "--dev: resilience stops a task through ECS, and `stackctl dev` runs none (stop a service's process by hand to see dev restart it)".into(),
        ));
    }
    let (target, svc) = target(cli, stack, &a.target).await?;
    let aws = connect(cli, stack).await?;
    let names = stack.names();
    let running = aws::task::running(&aws, &names, &names.ecs_service(&svc)).await?;
    let Some(victim) = running.first().cloned() else {
        return Err(Failure::Other {
            message: format!("service `{svc}` runs no task to stop"),
            hint: Some(
                "run `stackctl up` and wait until `stackctl status` shows it running".into(),
            ),
        });
    };
    let path = path(stack, &svc, &target, None)?;
    let client = check::client(a.target.request_timeout.0, 256)?;
    eprintln!(
        "Resilience check of {}: GET {path} at {} a second; stopping task {} of `{svc}` ({} running)…",
        target.url,
        a.rate,
        short(&victim),
        running.len()
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    // After MARGIN of load: stop the task, wait for the full count, MARGIN more, end the load.
    // Its answer: how long after the stop the service was whole again (None: not in time).
    let chaos = async {
        tokio::time::sleep(MARGIN).await;
        let stopped = Instant::now();
        let back = async {
            aws::task::stop(&aws, &names, &victim, "stackctl check resilience").await?;
            back_to_full(&aws, stack, &svc, &victim, a.timeout.0).await
        }
        .await;
        tokio::time::sleep(MARGIN).await;
        let _ = tx.send(());
        back.map(|at| at.map(|t| t - stopped))
    };
    let until = async {
        let _ = rx.await;
    };
    let load = generator::run(&client, &target, &path, a.rate, until, report::progress);
    let (run, recovery) = tokio::join!(load, chaos);
    let recovery = recovery?;
    let failed_at: Vec<String> = run
        .seconds
        .iter()
        .filter(|s| s.failed > 0)
        .map(|s| s.at.to_string())
        .collect();
    let passed = recovery.is_some() && run.tally.failures() == 0 && run.tally.sent > 0;
    let stop_s = MARGIN.as_secs();
    match a.target.output {
        Output::Text => {
            print!("{}", report::load_figures(target.url.as_str(), &run));
            match recovery {
                Some(d) => println!(
                    "Task {} stopped at {stop_s} s; `{svc}` back to its full count of running, healthy tasks {:.1} s later.",
                    short(&victim),
                    d.as_secs_f64()
                ),
                None => println!(
                    "Task {} stopped at {stop_s} s; `{svc}` NOT back to its full count of running, healthy tasks within {} s.",
                    short(&victim),
                    a.timeout.0.as_secs()
                ),
            }
            if !failed_at.is_empty() {
                println!(
                    "Requests due in seconds {} of the run failed.",
                    failed_at.join(", ")
                );
            }
            println!("{}", if passed { "Passed." } else { "Failed." });
        }
        Output::Json => {
            let none = report::Thresholds {
                max_errors_percent: 0.0,
                max_p99_ms: None,
            };
            let mut out = report::load_json(target.url.as_str(), &run, &none);
            out["stopped_task"] = json!(victim);
            out["stopped_at_s"] = json!(stop_s);
            out["recovery_s"] = json!(recovery.map(|d| d.as_secs_f64()));
            out["passed"] = json!(passed);
            println!("{out}");
        }
    }
    Ok(ExitCode::from(u8::from(!passed)))
}

/// When the service runs as many tasks as it wants (its desired count, read each time: a
/// scaler may change it), none of them `stopped`, each healthy in its target group if it has
/// one; `None` if not within `timeout`.
async fn back_to_full(
    aws: &Aws,
    stack: &Stack,
    svc: &str,
    stopped: &str,
    timeout: Duration,
) -> Result<Option<Instant>, Failure> {
    let names = stack.names();
    let ecs_service = names.ecs_service(svc);
    let deadline = Instant::now() + timeout;
    let group = aws::target_group::find(aws, &names)
        .await?
        .into_iter()
        .find(|o| o.name == names.target_group(svc))
        .map(|o| o.id);
    while Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
        let desired = aws::service::describe(aws, &names, std::slice::from_ref(&ecs_service))
            .await?
            .iter()
            .find_map(|o| match &o.state {
                crate::plan::State::Service(s) => Some(s.desired.max(0) as usize),
                _ => None,
            })
            .unwrap_or(0);
        let running = aws::task::running(aws, &names, &ecs_service).await?;
        let fresh = running.iter().filter(|t| *t != stopped).count();
        let healthy = match &group {
            Some(arn) => aws::target_group::health(aws, arn).await?.0,
            None => fresh,
        };
        if desired > 0 && fresh >= desired && healthy >= desired {
            return Ok(Some(Instant::now()));
        }
    }
    Ok(None)
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
