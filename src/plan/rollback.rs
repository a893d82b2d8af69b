//! Which revision `stackctl rollback` puts a service back on, and which ones it may. Pure:
//! the engine reads the history, the revisions and the token generations, this decides.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::names::Names;

/// One service deployment ECS recorded (ListServiceDeployments).
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    /// `SUCCESSFUL`, `IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `STOPPED`, …
    pub status: String,
    /// Epoch seconds.
    pub started: f64,
    pub finished: Option<f64>,
    /// The task definition ARN its revision runs (empty: ECS could not describe it).
    pub task_definition: String,
}

/// A revision the service ran healthy, newest first in [`candidates`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub task_definition: String,
    pub revision: i32,
    /// When its last successful deployment finished (epoch seconds).
    pub healthy_at: f64,
    /// A later revision than the running one: going there is rolling forward.
    pub newer: bool,
    /// Why the service cannot go back to it (None: it can).
    pub blocked: Option<String>,
}

/// The revision number at the end of a task definition ARN (`…:family:7` → 7).
pub fn revision_of(task_definition: &str) -> Option<i32> {
    task_definition.rsplit(':').next()?.parse().ok()
}

/// The revisions whose deployment completed successfully (ECS status SUCCESSFUL) in
/// `history` (newest first), each once, without the one `running` now. Not yet checked:
/// `blocked` is None.
pub fn candidates(history: &[Past], running: &str) -> Vec<Candidate> {
    let current = revision_of(running).unwrap_or(i32::MAX);
    let mut out: Vec<Candidate> = Vec::new();
    for p in history.iter().filter(|p| p.status == "SUCCESSFUL") {
        let td = &p.task_definition;
        if td.is_empty() || td == running || out.iter().any(|c| &c.task_definition == td) {
            continue;
        }
        let Some(revision) = revision_of(td) else {
            continue;
        };
        out.push(Candidate {
            task_definition: td.clone(),
            revision,
            healthy_at: p.finished.unwrap_or(p.started),
            newer: revision > current,
            blocked: None,
        });
    }
    out
}

/// The revisions to return to if going to `target` fails, best first: the running one when
/// its deployment is done (`steady`); else (the running one may never have been healthy) the
/// older healthy ones but the target. The engine takes the first that can still serve.
pub fn fallbacks(
    candidates: &[Candidate],
    running: &str,
    target: &str,
    steady: bool,
) -> Vec<String> {
    if steady {
        return vec![running.to_string()];
    }
    candidates
        .iter()
        .filter(|c| !c.newer && c.task_definition != target)
        .map(|c| c.task_definition.clone())
        .collect()
}

/// Whether a revision whose secrets are `secrets` (variable → SSM parameter ARN) may serve
/// `service` now: every token generation it reads must still exist (one revoked or retired
/// would make its tasks fail to start, and must not be accepted again), and it must accept
/// the current one, or clients holding the current token would be refused. `existing`: the
/// generations in SSM now (empty: the service has no token).
pub fn token_fit(
    names: &Names,
    service: &str,
    secrets: &BTreeMap<String, String>,
    existing: &[u32],
) -> Result<(), String> {
    let mut reads: Vec<u32> = secrets
        .values()
        .filter_map(|arn| {
            let name = arn
                .split_once(":parameter")
                .map_or(arn.as_str(), |(_, n)| n);
            names.parse_token_parameter(name)
        })
        .filter(|(s, _)| s == service)
        .map(|(_, g)| g)
        .collect();
    reads.sort_unstable();
    let list = |g: &[u32]| {
        g.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let gone: Vec<u32> = reads
        .iter()
        .copied()
        .filter(|g| !existing.contains(g))
        .collect();
    if !gone.is_empty() {
        return Err(format!(
            "it accepts token generation {}, which was revoked (`rotate-token --revoke-previous`) or retired since: its tasks would not start, and a revoked token must not be accepted again",
            list(&gone)
        ));
    }
    let Some(current) = existing.iter().max() else {
        return Ok(());
    };
    if !reads.contains(current) {
        return Err(if reads.is_empty() {
            format!("it reads no API token, and clients now use token generation {current}")
        } else {
            format!(
                "it accepts token generation {} only, not the current one ({current}): clients using the current token would be refused",
                list(&reads)
            )
        });
    }
    Ok(())
}

/// What `--to` names: `7`, `:7`, `family:7` or a task definition ARN; the revision number.
pub fn parse_to(to: &str, family: &str) -> Result<i32, String> {
    let t = to.trim();
    let number = t
        .strip_prefix(&format!("{family}:"))
        .or_else(|| t.strip_prefix(':'))
        .unwrap_or(t);
    let number = if number.starts_with("arn:") {
        let (f, n) = number
            .rsplit_once(":task-definition/")
            .and_then(|(_, fr)| fr.rsplit_once(':'))
            .ok_or_else(|| format!("`{to}` is not a task definition ARN"))?;
        if f != family {
            return Err(format!(
                "`{to}` is a revision of `{f}`, not of this service's task definition `{family}`"
            ));
        }
        n
    } else {
        number
    };
    match number.parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`--to {to}`: give a revision number (`7`), `{family}:7` or its ARN"
        )),
    }
}

/// The revision to go back to: `to` if given (it need not be a candidate: a revision the
/// user names may never have run), else the newest candidate older than the running one (a
/// newer one is only gone to by name: after a rollback, the release rolled back from is the
/// newest healthy one). Err: why not, for the user.
pub fn choose(candidates: &[Candidate], running: i32, to: Option<i32>) -> Result<i32, String> {
    if let Some(n) = to {
        return if n == running {
            Err(format!("the service already runs revision {n}"))
        } else {
            Ok(n)
        };
    }
    if let Some(c) = candidates.iter().find(|c| !c.newer) {
        return Ok(c.revision);
    }
    let newer: Vec<String> = candidates.iter().map(|c| c.revision.to_string()).collect();
    Err(if newer.is_empty() {
        format!("ECS has no record of a revision before {running} that ran healthy")
    } else {
        format!(
            "no revision before {running} ran healthy (only later ones: {}; `--to` one rolls forward)",
            newer.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILY: &str = "shop-prod-api";

    fn td(n: i32) -> String {
        format!("arn:aws:ecs:us-east-1:1:task-definition/{FAMILY}:{n}")
    }

    fn past(status: &str, n: i32, at: f64) -> Past {
        Past {
            status: status.into(),
            started: at,
            finished: Some(at + 60.0),
            task_definition: td(n),
        }
    }

    fn names() -> Names {
        Names::new("shop", "prod")
    }

    fn secrets(gens: &[u32]) -> BTreeMap<String, String> {
        let n = names();
        gens.iter()
            .enumerate()
            .map(|(i, g)| {
                let name = n.token_parameter("api", *g);
                (
                    format!("API_TOKEN{i}"),
                    format!("arn:aws:ssm:us-east-1:1:parameter{name}"),
                )
            })
            .collect()
    }

    #[test]
    fn candidates_are_healthy_revisions_newest_first_without_the_running_one() {
        let history = [
            past("IN_PROGRESS", 9, 900.0),
            past("ROLLBACK_SUCCESSFUL", 8, 800.0),
            past("SUCCESSFUL", 7, 700.0),
            past("SUCCESSFUL", 5, 600.0),
            past("STOPPED", 6, 550.0),
            past("SUCCESSFUL", 7, 500.0),
            past("SUCCESSFUL", 4, 400.0),
        ];
        let c = candidates(&history, &td(7));
        let revisions: Vec<i32> = c.iter().map(|c| c.revision).collect();
        assert_eq!(
            revisions,
            [5, 4],
            "failed, stopped and running ones are left out"
        );
        assert_eq!(c[0].healthy_at, 660.0);
        assert_eq!(choose(&c, 7, None), Ok(5));
        assert_eq!(choose(&c, 7, Some(2)), Ok(2));
        assert!(choose(&c, 7, Some(7)).unwrap_err().contains("already runs"));
        assert!(choose(&[], 7, None).unwrap_err().contains("no record"));
        // While 9 is still deploying, a failure goes back to an older healthy revision that
        // is not the target.
        let c9 = candidates(&history, &td(9));
        assert_eq!(fallbacks(&c9, &td(9), &td(7), false), [td(5), td(4)]);
        assert_eq!(fallbacks(&c9, &td(9), &td(7), true), [td(9)]);
    }

    #[test]
    fn after_a_rollback_the_bad_release_is_only_gone_to_by_name() {
        // 2 was bad, rolled back to 1.
        let history = [
            past("SUCCESSFUL", 1, 300.0),
            past("SUCCESSFUL", 2, 200.0),
            past("SUCCESSFUL", 1, 100.0),
        ];
        let c = candidates(&history, &td(1));
        assert_eq!((c.len(), c[0].revision, c[0].newer), (1, 2, true));
        let why = choose(&c, 1, None).unwrap_err();
        assert!(
            why.contains("only later ones: 2; `--to` one rolls forward"),
            "{why}"
        );
        assert_eq!(choose(&c, 1, Some(2)), Ok(2));
    }

    #[test]
    fn a_revision_must_accept_the_current_token_and_no_revoked_one() {
        let n = names();
        assert_eq!(token_fit(&n, "api", &secrets(&[3, 2]), &[2, 3]), Ok(()));
        let revoked = token_fit(&n, "api", &secrets(&[2, 1]), &[2, 3]).unwrap_err();
        assert!(
            revoked.contains("generation 1, which was revoked"),
            "{revoked}"
        );
        let old = token_fit(&n, "api", &secrets(&[2]), &[2, 3]).unwrap_err();
        assert!(
            old.contains("generation 2 only, not the current one (3)"),
            "{old}"
        );
        let none = token_fit(&n, "api", &secrets(&[]), &[3]).unwrap_err();
        assert!(none.contains("reads no API token"), "{none}");
        // Another service's token is not this one's; a service without a token takes any.
        assert_eq!(token_fit(&n, "web", &secrets(&[1]), &[]), Ok(()));
        assert_eq!(token_fit(&n, "api", &BTreeMap::new(), &[]), Ok(()));
    }

    #[test]
    fn to_names_a_revision_of_the_family() {
        assert_eq!(parse_to("7", FAMILY), Ok(7));
        assert_eq!(parse_to(":7", FAMILY), Ok(7));
        assert_eq!(parse_to("shop-prod-api:7", FAMILY), Ok(7));
        assert_eq!(parse_to(&td(12), FAMILY), Ok(12));
        let other = parse_to("arn:aws:ecs:us-east-1:1:task-definition/x-web:3", FAMILY);
        assert!(other.unwrap_err().contains("not of this service"));
        for bad in ["", "0", "-1", "latest", "api:x"] {
            assert!(parse_to(bad, FAMILY).is_err(), "{bad}");
        }
    }
}
