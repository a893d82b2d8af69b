//! `stackctl explain`: every resource the stack would have, in the order `up` creates them and
//! `down` deletes them, with the settings stackctl sends. Built from the same desired state,
//! ordering and request constants `up` uses (part1.md's appendix is this output; a test keeps
//! them equal), with no AWS call.

use std::fmt::Write;

use serde_json::Value;

use std::collections::BTreeMap;

use crate::config::{Source, Stack};
use crate::image;
use crate::names::{MANAGED_BY, TAG_ENV, TAG_MANAGED_BY, TAG_RESOURCE, TAG_STACK};
use crate::plan::{self, Action, Change, Desired, Facts, Image, Plan};

/// The facts `up` would learn from AWS and the build, as placeholders: what `explain` and
/// `cost` plan with when they call no AWS API.
pub fn placeholder_facts(stack: &Stack, region: &str, partition: &str, account: &str) -> Facts {
    let names = stack.names();
    let zones = (0..usize::from(stack.network.azs))
        .map(|i| match stack.network.zones.get(i) {
            Some(z) => z.clone(),
            None => format!("<zone {}, chosen by up>", i + 1),
        })
        .collect();
    let images = stack
        .services
        .values()
        .map(|svc| {
            let image = match &svc.source {
                Source::Build(_) => Image {
                    reference: format!(
                        "{}/{}@sha256:<digest of the built image>",
                        image::ecr::host(account, region),
                        names.repository(&svc.name)
                    ),
                    health_command: Some(vec![
                        "CMD".into(),
                        image::layer::binary_path("<binary>"),
                        "healthcheck".into(),
                    ]),
                },
                Source::Image(r) => Image {
                    reference: format!("{r} (by digest)"),
                    health_command: Some(vec![]),
                },
            };
            (svc.name.clone(), image)
        })
        .collect();
    Facts {
        account: account.into(),
        partition: partition.into(),
        region: region.into(),
        zones,
        images,
        tokens: BTreeMap::new(),
        database: None,
        zone: None,
        load_balancer_dns: None,
        live: Default::default(),
    }
}

/// The explanation of `want` (the desired state for `facts`) as Markdown.
pub fn explain(want: &[Desired], facts: &Facts, stack: &str, env: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Stack `{stack}`, environment `{env}`, region `{}`, account `{}`. Names in `a/b` form \
         are the stack's other resources (their logical keys), replaced by their IDs or ARNs \
         when sent.\n",
        facts.region, facts.account
    );
    let _ = writeln!(
        out,
        "Every resource carries the tags `Name` (its name), `{TAG_STACK}={stack}`, \
         `{TAG_ENV}={env}`, `{TAG_RESOURCE}` (its key) and `{TAG_MANAGED_BY}={MANAGED_BY}`.\n"
    );

    let (infrastructure, deploys) = plan::split_deploys(&plan::plan(want, &[]));
    let _ = writeln!(out, "#### Creating: `up` in an empty account\n");
    let _ = writeln!(out, "| step | created together |\n|---|---|");
    let mut step = 0;
    let mut sections = Vec::new();
    for (phase, after) in [
        (
            &infrastructure,
            "the images, built before step 1, are pushed to their repositories",
        ),
        (&deploys, "`up` waits for each service's rollout"),
    ] {
        for wave in waves(phase, want) {
            step += 1;
            let _ = writeln!(out, "| {step} | {} |", keys(phase, &wave));
            sections.extend(wave.iter().map(|i| phase.changes[*i].key.clone()));
        }
        let _ = writeln!(out, "| then | {after} |");
    }
    for key in &sections {
        let d = want
            .iter()
            .find(|d| &d.key == key)
            .expect("planned from want");
        {
            let _ = writeln!(
                out,
                "\n#### {} `{}` ({})\n",
                d.spec.kind().label(),
                d.name,
                d.key
            );
            let deps = d.deps();
            if !deps.is_empty() {
                let list: Vec<String> = deps.iter().map(|k| format!("`{k}`")).collect();
                let _ = writeln!(out, "After {}.\n", list.join(", "));
            }
            let settings = serde_json::to_string_pretty(&settings(d)).expect("JSON values");
            let _ = writeln!(out, "```json\n{settings}\n```");
        }
    }

    let delete = Plan {
        changes: want
            .iter()
            .map(|d| Change {
                key: d.key.clone(),
                kind: d.spec.kind(),
                name: d.name.clone(),
                action: Action::Delete { id: String::new() },
            })
            .collect(),
        unchanged: 0,
    };
    let _ = writeln!(out, "\n#### Deleting: `down`\n");
    let _ = writeln!(out, "| step | deleted together |\n|---|---|");
    for (i, wave) in waves_of(&plan::order(&delete, want)).iter().enumerate() {
        let _ = writeln!(out, "| {} | {} |", i + 1, keys(&delete, wave));
    }
    out
}

/// Changes grouped by how many others must finish before them.
fn waves(plan: &Plan, want: &[Desired]) -> Vec<Vec<usize>> {
    waves_of(&plan::order(plan, want))
}

fn waves_of(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut level = vec![usize::MAX; deps.len()];
    // Each pass places at least one change of a dependency graph; a cycle would never end.
    for _ in 0..deps.len() {
        if !level.contains(&usize::MAX) {
            break;
        }
        for i in 0..deps.len() {
            if level[i] == usize::MAX && deps[i].iter().all(|d| level[*d] != usize::MAX) {
                level[i] = deps[i].iter().map(|d| level[*d] + 1).max().unwrap_or(0);
            }
        }
    }
    assert!(
        !level.contains(&usize::MAX),
        "the plan's dependencies form a cycle"
    );
    let depth = level.iter().max().map_or(0, |m| m + 1);
    (0..depth)
        .map(|l| (0..deps.len()).filter(|i| level[*i] == l).collect())
        .collect()
}

fn keys(plan: &Plan, wave: &[usize]) -> String {
    let list: Vec<String> = wave
        .iter()
        .map(|i| format!("`{}`", plan.changes[*i].key))
        .collect();
    list.join(", ")
}

/// What stackctl sends for `d`: the planner's decisions, then the settings every resource of
/// its kind gets (from its module).
fn settings(d: &Desired) -> Value {
    let mut v = serde_json::to_value(&d.spec).expect("specs serialize");
    let map = v.as_object_mut().expect("specs are objects");
    map.remove("kind");
    if let Value::Object(extra) = d.spec.settings(&d.key) {
        for (k, val) in extra {
            // `null`: a field the request sends in another form.
            if val.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, val);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_follow_dependencies() {
        // 0 ← 1 ← 2, and 3 alone.
        let deps = vec![vec![], vec![0], vec![1, 0], vec![]];
        assert_eq!(waves_of(&deps), vec![vec![0, 3], vec![1], vec![2]]);
    }
}
