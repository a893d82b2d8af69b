//! `stackctl token` and `stackctl rotate-token`.
//!
//! Each token generation is its own SSM parameter (`…/<service>/token/<n>`), and a task
//! definition revision names the generations it accepts (ECS cannot pin a parameter
//! version). Rotating writes generation n+1, registers a revision accepting n+1 (as the
//! token) and n (as the previous one), and rolls the service: old tasks accept n, new ones
//! both, so no request fails. `--revoke-previous` deletes n and everything older first: a
//! rollback to a revision that refers to them fails to start (fails closed) instead of
//! accepting a revoked token again.

use std::io::{Read, Write};
use std::process::ExitCode;

use super::{Failure, connect, current_token, load, no_token, unknown_service};
use crate::aws::{self, Aws, ssm};
use crate::cli::{Cli, RotateArgs, TokenArgs};
use crate::config::Stack;
use crate::engine::Progress;
use crate::engine::converge::converge;
use crate::engine::rollback;
use crate::lock;
use crate::plan::desired;

/// The service meant: the one named, or the only one with a token.
fn pick(stack: &Stack, named: Option<&str>) -> Result<String, Failure> {
    let with_token: Vec<&String> = stack
        .services
        .iter()
        .filter(|(_, s)| s.token)
        .map(|(n, _)| n)
        .collect();
    match named {
        Some(n) if !stack.services.contains_key(n) => Err(unknown_service(stack, n)),
        Some(n) if !stack.services[n].token => Err(Failure::Usage(format!(
            "service `{n}` has no token (add `token: true` to it in stack.yaml)"
        ))),
        Some(n) => Ok(n.to_string()),
        None if with_token.len() == 1 => Ok(with_token[0].clone()),
        None => Err(Failure::Usage(format!(
            "name the service: {}",
            with_token
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub async fn show(cli: &Cli, args: &TokenArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let svc = pick(&stack, args.service.as_deref())?;
    if args.dev {
        println!("{}", crate::dev::token(&super::stack_dir(cli), &svc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let aws = connect(cli, &stack).await?;
    println!("{}", current_token(&aws, &stack, &svc).await?);
    Ok(ExitCode::SUCCESS)
}

/// A token must be usable in an `Authorization: Token <value>` header as is.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the token is empty".into());
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "the token contains {c:?}: use visible ASCII characters only (no spaces)"
        ));
    }
    if value.len() > 4096 {
        return Err("the token is longer than 4096 characters (the SSM limit)".into());
    }
    Ok(())
}

pub async fn rotate(cli: &Cli, args: &RotateArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let svc = pick(&stack, args.service.as_deref())?;
    let value = if args.value_from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::Usage(format!("read the token from standard input: {e}")))?;
        let s = s.trim_end_matches(['\n', '\r']).to_string();
        check_value(&s).map_err(|e| Failure::Usage(format!("--value-from-stdin: {e}")))?;
        s
    } else {
        ssm::generate_token()
    };
    // Written before anything changes, so a token in use is never one nobody has.
    if let Some(path) = &args.output_file {
        write_secret(path, &value)?;
    }
    let progress = Progress::on_stderr();
    let aws = connect(cli, &stack).await?;
    let names = stack.names();
    let lock = lock::acquire(&aws, &names, "rotate-token", args.lock.waiting(), |l| {
        progress.say(l)
    })
    .await?;
    let work = async {
        rotate_locked(&aws, &stack, &svc, &value, args.revoke_previous, &progress).await?;
        converge(&aws, &stack, None, None, None, &progress, args.timeout.0)
            .await
            .map_err(Failure::from)
    };
    let result = lock.run(&aws, work).await;
    if args.show {
        // Once, on stdout, and only because it was asked for; stored even if the roll failed.
        println!("{value}");
        let _ = std::io::stdout().flush();
    }
    result?;
    progress.say(&format!(
        "Token of {svc} rotated in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    Ok(ExitCode::SUCCESS)
}

async fn rotate_locked(
    aws: &Aws,
    stack: &Stack,
    svc: &str,
    value: &str,
    revoke: bool,
    progress: &Progress,
) -> Result<(), Failure> {
    let names = stack.names();
    let found = ssm::find(aws, &names).await?;
    let Some(g) = ssm::generations(&names, &found).remove(svc) else {
        return Err(no_token(svc));
    };
    let deployed = aws::task_definition::find(aws, &names).await?;
    let Some(latest) = deployed
        .iter()
        .find(|o| o.key == desired::task_definition(svc))
    else {
        return Err(Failure::Other {
            message: format!("service `{svc}` is not deployed"),
            hint: Some("run `stackctl up` first".into()),
        });
    };
    // After `rollback`, the service runs an older revision than stack.yaml's; rotating
    // registers stack.yaml's again (it must not be refused: the token may have leaked).
    if let Some(now) = rollback::running(aws, &names, svc).await?
        && now.task_definition != latest.id
    {
        let short = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
        progress.say(&format!(
            "warning: {svc} runs {} (rolled back), not {}: the rotation deploys stack.yaml's version again",
            short(&now.task_definition),
            short(&latest.id)
        ));
    }
    let next = g.current + 1;
    let name = names.token_parameter(svc, next);
    let description = format!(
        "API token of {}/{}/{svc} (managed by stackctl)",
        stack.name, stack.env
    );
    let key = desired::token(svc);
    let value = ssm::Content::Secret(value);
    ssm::put_new(aws, &names, &key.0, &name, &description, value).await?;
    progress.say(&format!("stored token generation {next} of {svc}"));
    if revoke {
        for o in &found {
            if let Some((s, gen_)) = names.parse_token_parameter(&o.name)
                && s == svc
                && gen_ <= g.current
            {
                ssm::delete(aws, &o.name).await?;
                progress.say(&format!("revoked token generation {gen_} of {svc}"));
            }
        }
    }
    Ok(())
}

/// Creates `path` for the token: new file only, readable by its owner only.
fn write_secret(path: &std::path::Path, value: &str) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| {
        Failure::Usage(format!(
            "--output-file {}: {e} (it must not exist yet)",
            path.display()
        ))
    })?;
    writeln!(f, "{value}").map_err(|e| Failure::Usage(format!("write {}: {e}", path.display())))?;
    Ok(())
}
