//! `stackctl down`: delete everything the stack owns, in an order AWS accepts, then sweep
//! for leftovers. Safe after a partial `up`, and safe to run twice.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use super::{Failure, connect, load};
use crate::aws::Aws;
use crate::cli::{Cli, DownArgs};
use crate::config::Stack;
use crate::engine::{Progress, apply, observe};
use crate::lock;
use crate::plan;

pub async fn run(cli: &Cli, args: &DownArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let progress = Progress::new();
    let names = stack.names();
    let seen = observe(&aws, &stack).await?;
    let plan = plan::plan(&[], &seen.resources);
    if plan.is_empty() && lock::peek(&aws, &names).await?.is_none() {
        still_tagged(&aws, &stack, &progress).await?;
        progress.say(&format!(
            "Nothing to delete: stack {} (env {}) owns no resources in {}.",
            stack.name, stack.env, aws.region
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let database = seen.resources.iter().find_map(|o| match &o.state {
        plan::State::DbInstance(s) => Some((o.id.clone(), s.clone())),
        _ => None,
    });
    if let Some((id, db)) = &database {
        if db.deletion_protection {
            return Err(Failure::Other {
                message: format!("RDS instance {id} has deletion protection on; nothing was deleted"),
                hint: Some("set `deletion_protection: false` under `database:` in stack.yaml, run `stackctl up`, then `stackctl down`".into()),
            });
        }
        if args.delete_data {
            confirm_data_loss(id)?;
        }
    }
    if !plan.is_empty() {
        progress.say(plan::render_text(&plan).trim_end());
        if database.is_some() && !args.delete_data {
            progress.say("The database is deleted after a final snapshot, which is kept.");
        }
        if !args.yes
            && !confirm(&format!(
                "Delete these {} resources of {} ({})?",
                plan.changes.len(),
                stack.name,
                stack.env
            ))?
        {
            return Err(Failure::Usage("cancelled; nothing was deleted".into()));
        }
    }
    // The lock goes last: released (deleted) after the sweep found nothing left.
    let lock = lock::acquire(&aws, &names, "down", args.lock.waiting(), |l| {
        progress.say(l)
    })
    .await?;
    let delete_data = args.delete_data && database.is_some();
    lock.run(&aws, delete_all(&aws, &stack, delete_data, &progress))
        .await?;
    progress.say(&format!(
        "Deleted everything in {:.1}s, {}.",
        progress.elapsed().as_secs_f64(),
        aws.calls.summary()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Under the lock. Observed again: another run may have changed the stack since the first look.
async fn delete_all(
    aws: &Aws,
    stack: &Stack,
    delete_data: bool,
    progress: &Progress,
) -> Result<(), Failure> {
    let names = stack.names();
    if delete_data {
        crate::aws::db_instance::delete_without_snapshot(aws, &names).await?;
        progress.say(&format!(
            "Deleting RDS instance {} without a final snapshot.",
            names.db_instance()
        ));
    }
    let seen = observe(aws, stack).await?;
    let had_database = !delete_data
        && seen
            .resources
            .iter()
            .any(|o| o.state.kind() == plan::Kind::DbInstance);
    let plan = plan::plan(&[], &seen.resources);
    let result = apply(
        aws,
        &stack.names(),
        &[],
        &seen.resources,
        &plan,
        crate::plan::ids(&seen.resources),
        progress,
    )
    .await
    .map(|_| ());
    // Left: what another `down` would still delete (the planner leaves what the account
    // shares, such as its service-linked roles).
    let left = plan::plan(&[], &observe(aws, stack).await?.resources).changes;
    if !left.is_empty() {
        progress.say("Still present after down:");
        for c in &left {
            let plan::Action::Delete { id } = &c.action else {
                continue;
            };
            progress.say(&format!("  {} {} [{id}]", c.kind.label(), c.name));
        }
    }
    // Named only once the instance is gone: then its final snapshot is the newest.
    let database_gone = !left.iter().any(|c| c.kind == plan::Kind::DbInstance);
    if had_database
        && database_gone
        && let Some((name, status)) = crate::aws::db_instance::final_snapshots(aws, &names)
            .await?
            .into_iter()
            .next()
    {
        progress.say(&format!(
            "Kept the database's final snapshot {name} ({status}). To get the data back, set `snapshot: {name}` under `database:` and run `stackctl up`."
        ));
    }
    result?;
    if !left.is_empty() {
        return Err(Failure::Other {
            message: format!("{} resources remain", left.len()),
            hint: Some(
                "run `stackctl down` again; if they persist, delete them in the AWS console".into(),
            ),
        });
    }
    still_tagged(aws, stack, progress).await
}

/// Last, anything of any type that still carries the stack's tags (the kinds stackctl knows
/// are gone by now): made by hand, or by a newer stackctl. Fails naming each.
async fn still_tagged(aws: &Aws, stack: &Stack, progress: &Progress) -> Result<(), Failure> {
    let tagged = crate::aws::tagging::until_none_tagged(aws, &stack.names()).await?;
    if tagged.is_empty() {
        return Ok(());
    }
    progress.say("Still tagged with the stack after down:");
    for arn in &tagged {
        progress.say(&format!("  {arn}"));
    }
    Err(Failure::Other {
        message: format!("{} resources still carry the stack's tags", tagged.len()),
        hint: Some(
            "delete them (each ARN says what it is and where), then run `stackctl down` again"
                .into(),
        ),
    })
}

/// `--delete-data`: in a terminal, the database's name typed back; elsewhere the flag is the
/// explicit consent (scripts cannot type).
fn confirm_data_loss(id: &str) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let line = ask(&format!(
        "--delete-data: RDS instance {id} goes without a final snapshot; its data cannot be recovered. Type its name to confirm: "
    ))?;
    if line == id {
        Ok(())
    } else {
        Err(Failure::Usage(
            "cancelled; nothing was deleted (drop --delete-data to keep a final snapshot)".into(),
        ))
    }
}

fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "down needs confirmation: pass --yes when not running in a terminal".into(),
        ));
    }
    Ok(ask(&format!("{question} Type `yes` to confirm: "))? == "yes")
}

/// Prints `prompt` and reads one line from the terminal, trimmed.
fn ask(prompt: &str) -> Result<String, Failure> {
    print!("{prompt}");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Usage(format!("read confirmation: {e}")))?;
    Ok(line.trim().to_string())
}
