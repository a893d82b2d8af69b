//! The revisions a service can go back to: its deployment history (ECS keeps it), each
//! healthy revision checked against what exists now (still registered, and accepting the
//! token clients use). `status` lists them; `rollback` picks one.

use crate::aws::{self, Aws, AwsError};
use crate::names::Names;
use crate::plan::rollback::{self, Candidate};

/// How many of the latest healthy revisions are checked and shown.
pub const SHOWN: usize = 5;

/// The latest [`SHOWN`] revisions ECS service `arn` (stack service `service`) ran healthy,
/// newest first, without the one it runs (`running`), each with why it cannot be used.
pub async fn candidates(
    aws: &Aws,
    names: &Names,
    service: &str,
    arn: &str,
    running: &str,
) -> Result<Vec<Candidate>, AwsError> {
    let history = aws::service_deployment::history(aws, names, arn).await?;
    let mut found = rollback::candidates(&history, running);
    found.truncate(SHOWN);
    let existing = token_generations(aws, names, service).await?;
    for c in &mut found {
        c.blocked = usable(aws, names, service, &c.task_definition, &existing)
            .await?
            .err();
    }
    Ok(found)
}

/// Whether the service may run revision `reference` now: Ok(its ARN) or Err(why not).
pub async fn usable(
    aws: &Aws,
    names: &Names,
    service: &str,
    reference: &str,
    existing: &[u32],
) -> Result<Result<String, String>, AwsError> {
    Ok(
        match aws::task_definition::revision(aws, reference).await? {
            None => Err("ECS has no such revision".into()),
            Some((_, _, false)) => {
                Err("it was deregistered (`down` deregisters a service's revisions)".into())
            }
            Some((arn, def, true)) => {
                rollback::token_fit(names, service, &def.secrets, existing).map(|()| arn)
            }
        },
    )
}

/// The token generations of `service` in SSM now (empty: it has no token).
pub async fn token_generations(
    aws: &Aws,
    names: &Names,
    service: &str,
) -> Result<Vec<u32>, AwsError> {
    Ok(aws::ssm::find(aws, names)
        .await?
        .iter()
        .filter_map(|o| names.parse_token_parameter(&o.name))
        .filter(|(s, _)| s == service)
        .map(|(_, g)| g)
        .collect())
}
