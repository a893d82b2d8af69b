//! The desired task definition of a service.

use std::collections::BTreeMap;

use super::desired::{APP_USER, Facts, Generations, STOP_TIMEOUT, parameter_arn, role_path};
use super::resource::TaskDef;
use crate::config::{Service, Source, Stack, TOKEN_ENV};
use crate::image::layer::WRITABLE;

/// The ARN of the stack's role `name` (under [`role_path`]).
pub fn role_arn(stack: &Stack, facts: &Facts, name: &str) -> String {
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
    // Each service it calls, by the name it has inside the VPC.
    let mut environment = environment(stack, svc, svc.port, |callee| {
        format!("http://{}:{}", n.private_host(&callee.name), callee.port)
    });
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
    database(stack, facts, svc, &mut environment, &mut secrets);
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

/// A service's environment wherever it runs (`stackctl dev` too): its `env:`, `PORT`, and a
/// `<NAME>_URL` for each service it calls, at `url(callee)`.
pub fn environment(
    stack: &Stack,
    svc: &Service,
    port: u16,
    url: impl Fn(&Service) -> String,
) -> BTreeMap<String, String> {
    let mut environment = svc.env.clone();
    environment.insert("PORT".into(), port.to_string());
    if svc.public {
        // Behind the load balancer the client is the last X-Forwarded-For hop.
        environment.insert("RATE_LIMIT_TRUST_FORWARDED_FOR".into(), "true".into());
    }
    for callee in &svc.calls {
        if let Some(c) = stack.services.get(callee) {
            environment.insert(crate::config::routes::url_var(callee), url(c));
        }
    }
    environment
}

/// Whether the service is told it has no database (`DATABASE=none`): the stack's database
/// is not given to it and it brings no `DATABASE_URL` of its own.
pub fn without_database(stack: &Stack, svc: &Service) -> bool {
    stack.database_of(&svc.name).is_none() && !svc.env.contains_key("DATABASE_URL")
}

/// Shown in a plan for what RDS has not made yet; converge waits for the database before it
/// registers a task definition, so this never reaches AWS.
pub const PENDING: &str = "(known once the database is ready)";

/// The database's connection: host, port and name as environment, user and password through
/// ECS `secrets` from the RDS-managed secret's JSON keys (ECS Developer Guide, "Pass Secrets
/// Manager secrets through Amazon ECS environment variables"). A service without it is told
/// so (`DATABASE=none`): the API then refuses to keep payments in a per-task file, unless
/// the service brings its own database (`DATABASE_URL` in its `env:`).
fn database(
    stack: &Stack,
    facts: &Facts,
    svc: &Service,
    environment: &mut BTreeMap<String, String>,
    secrets: &mut BTreeMap<String, String>,
) {
    let Some(db) = stack.database_of(&svc.name) else {
        if without_database(stack, svc) {
            environment.insert(DATABASE_ENV.into(), "none".into());
        }
        return;
    };
    // The instance's own database name: restored from a snapshot, it keeps the snapshot's.
    let (host, port, name, arn) = match &facts.database {
        Some(c) => (
            c.host.clone(),
            c.port.to_string(),
            c.name.clone(),
            c.secret_arn.clone(),
        ),
        None => (
            PENDING.into(),
            crate::aws::db_instance::PORT.to_string(),
            db.name.clone(),
            PENDING.into(),
        ),
    };
    environment.insert("DATABASE_HOST".into(), host);
    environment.insert("DATABASE_PORT".into(), port);
    environment.insert("DATABASE_NAME".into(), name);
    // RDS for PostgreSQL 15 and later refuse connections without TLS (rds.force_ssl = 1).
    environment.insert("DATABASE_SSLMODE".into(), "require".into());
    secrets.insert("DATABASE_USER".into(), format!("{arn}:username::"));
    secrets.insert("DATABASE_PASSWORD".into(), format!("{arn}:password::"));
}

/// The variables stackctl sets for the database; `env:` cannot set them.
pub const DATABASE_ENV: &str = "DATABASE";
pub const DATABASE_VARS: &[&str] = &[
    DATABASE_ENV,
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
    "DATABASE_SSLMODE",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
];
