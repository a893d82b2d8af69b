//! The desired task definition of a service.

use std::collections::BTreeMap;

use super::desired::{APP_USER, Facts, Generations, STOP_TIMEOUT, parameter_arn, role_path};
use super::resource::TaskDef;
use crate::config::{Service, Source, Stack, TOKEN_ENV};
use crate::image::layer::WRITABLE;

fn role_arn(stack: &Stack, facts: &Facts, name: &str) -> String {
    format!(
        "arn:{}:iam::{}:role{}{name}",
        facts.partition,
        facts.account,
        role_path(stack)
    )
}

/// The task definition of a service: image by digest, the token from SSM by ARN (the
/// current generation, and the previous one while clients move over), logs to its group.
pub fn task_def(stack: &Stack, facts: &Facts, svc: &Service) -> TaskDef {
    let n = stack.names();
    let name = &svc.name;
    let mut environment = svc.env.clone();
    environment.insert("PORT".into(), svc.port.to_string());
    if svc.public {
        // Behind the load balancer the client is the last X-Forwarded-For hop.
        environment.insert("RATE_LIMIT_TRUST_FORWARDED_FOR".into(), "true".into());
    }
    let mut secrets = BTreeMap::new();
    if svc.token {
        let g = facts.tokens.get(name).copied().unwrap_or(Generations {
            current: 1,
            ..Default::default()
        });
        let arn = |g| parameter_arn(facts, &n.token_parameter(name, g));
        secrets.insert(TOKEN_ENV.to_string(), arn(g.current));
        if let Some(p) = g.previous {
            secrets.insert(format!("{TOKEN_ENV}_PREVIOUS"), arn(p));
        }
    }
    let built = matches!(svc.source, Source::Build(_));
    let image = facts.images.get(name);
    TaskDef {
        cpu: svc.cpu,
        memory: svc.memory,
        execution_role: role_arn(stack, facts, &n.execution_role()),
        task_role: role_arn(stack, facts, &n.task_role(name)),
        image: image.map(|i| i.reference.clone()),
        port: svc.port,
        environment,
        secrets,
        log_group: n.log_group(name),
        log_region: facts.region.clone(),
        health_command: image.map(|i| i.health_command.clone().unwrap_or_default()),
        stop_timeout: STOP_TIMEOUT,
        // Images stackctl builds run as a non-root user and write only the directories they
        // declare as volumes (image::layer::WRITABLE), each mounted as a task volume.
        user: if built {
            APP_USER.into()
        } else {
            String::new()
        },
        read_only_root: built,
        volumes: if built {
            WRITABLE
                .iter()
                .map(|path| (path.trim_matches('/').replace('/', "-"), path.to_string()))
                .collect()
        } else {
            BTreeMap::new()
        },
    }
}
