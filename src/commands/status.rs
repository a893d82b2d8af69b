//! `stackctl status`: every resource the stack has, its services' deployments and target
//! health, and the URL. Reads only.

use std::process::ExitCode;

use serde_json::json;

use super::{Failure, connect, load};
use crate::aws;
use crate::cli::{Cli, Output, StatusArgs};
use crate::engine::converge::url_of;
use crate::engine::{images, observe, rollback};
use crate::plan::{self, State, desired::desired};

pub async fn run(cli: &Cli, args: &StatusArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let aws = connect(cli, &stack).await?;
    let seen = observe(&aws, &stack).await?;
    if let Some(e) = &seen.zone_error {
        eprintln!("warning: {e}");
    }
    let mut facts = seen.facts.clone();
    facts.images = images::deployed(&seen.resources);
    let plan = plan::plan(&desired(&stack, &facts), &seen.resources);
    let mut health = Vec::new();
    for o in &seen.resources {
        if let State::TargetGroup(aws::target_group::State { .. }) = o.state {
            let h = aws::target_group::health(&aws, &o.id).await?;
            health.push((o.key.clone(), h));
        }
    }
    // What the scaler did lately, per scaled service.
    let mut scaling = Vec::new();
    for o in &seen.resources {
        if let State::Scaling(_) = o.state {
            scaling.push((
                o.key.clone(),
                aws::scaling::activities(&aws, &o.id, 3).await?,
            ));
        }
    }
    // What each service can roll back to (ECS keeps its deployment history).
    let names = stack.names();
    let mut revisions = Vec::new();
    for (o, now) in seen
        .resources
        .iter()
        .filter_map(|o| Some((o, rollback::running_of(o)?)))
    {
        let service = o.key.name().to_string();
        let existing = rollback::generations_of(&names, &service, &seen.resources);
        let found = match aws::service_deployment::history(&aws, &names, &now.arn).await {
            Ok(h) => {
                let all = plan::rollback::candidates(&h, &now.task_definition);
                rollback::checked(&aws, &names, &service, &now, &all, &existing).await
            }
            Err(e) => Err(e),
        };
        match found {
            Ok(c) => revisions.push((service, c)),
            Err(e) => {
                eprintln!("warning: {e} (the revisions {service} can go back to are not shown)")
            }
        }
    }
    let url = url_of(&seen.resources);
    if args.output == Output::Json {
        let out = json!({
            "stack": stack.name,
            "env": stack.env,
            "region": aws.region,
            "url": url,
            "resources": seen.resources,
            "targets": health.iter().map(|(k, (healthy, total, others))| json!({
                "target_group": k, "healthy": healthy, "total": total, "others": others,
            })).collect::<Vec<_>>(),
            "scaling_activities": scaling.iter().map(|(k, a)| json!({
                "scaling": k, "latest": a,
            })).collect::<Vec<_>>(),
            "rollback": revisions.iter().map(|(s, c)| json!({
                "service": s, "revisions": c,
            })).collect::<Vec<_>>(),
            "pending_changes": plan.changes.len(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serializes")
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "stack {} (env {}) in {}: {} resources",
        stack.name,
        stack.env,
        aws.region,
        seen.resources.len()
    );
    for o in &seen.resources {
        println!(
            "  {:<16} {:<34} {}",
            o.state.kind().label(),
            o.name,
            o.state.summary()
        );
        if let State::Service(s) = &o.state {
            for d in &s.deployments {
                println!(
                    "      deployment {} {:<8} {} {}: {} running, {} pending of {}{}",
                    d.id,
                    d.status,
                    d.task_definition.rsplit('/').next().unwrap_or(""),
                    if d.rollout.is_empty() {
                        "-"
                    } else {
                        &d.rollout
                    },
                    d.running,
                    d.pending,
                    d.desired,
                    if d.failed > 0 {
                        format!(", {} failed", d.failed)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    for (key, (healthy, total, others)) in &health {
        println!("  targets of {key}: {healthy} healthy of {total}");
        for o in others {
            println!("      {o}");
        }
    }
    for (service, candidates) in &revisions {
        if candidates.is_empty() {
            println!("  {service}: ECS has no record of another revision that ran healthy");
        }
        for c in candidates {
            let when = crate::clock::rfc3339(c.healthy_at as u64);
            let way = if c.newer { "forward" } else { "back" };
            match &c.blocked {
                None => println!(
                    "  {service} can roll {way} to revision {} (healthy {when}): `stackctl rollback {service} --to {}`",
                    c.revision, c.revision
                ),
                Some(why) => println!(
                    "  {service} cannot roll {way} to revision {} (healthy {when}): {why}",
                    c.revision
                ),
            }
        }
    }
    for (key, activities) in &scaling {
        if activities.is_empty() {
            println!("  {key}: no scaling activity yet");
        }
        for a in activities {
            println!("  {key}: {} {} {}", a.start, a.status, a.description);
        }
    }
    match plan.changes.len() {
        0 => println!("In sync with {}.", cli.file.display()),
        n => println!(
            "{n} changes pending: run `stackctl plan` to see them, `stackctl up` to apply."
        ),
    }
    if let Some(url) = url {
        println!("URL: {url}");
    }
    Ok(ExitCode::SUCCESS)
}
