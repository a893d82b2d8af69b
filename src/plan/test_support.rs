//! Shared by the planner's tests: the example stack, facts, and a converged observation.

use std::path::Path;

use super::*;
use crate::config;

pub(super) fn stack() -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&root.join("stack.yaml"), None).expect("example stack")
}

/// A stack from YAML whose `build:` paths are relative to the repository.
pub(crate) fn stack_from(yaml: &str) -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::parse(Path::new("stack.yaml"), yaml, root, None).expect("valid stack")
}

pub(crate) fn facts() -> Facts {
    Facts {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        images:
            [(
                "api".to_string(),
                Image {
                    reference:
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-default/api@sha256:aa"
                            .into(),
                    health_command: Some(vec!["CMD".into(), "/api".into(), "healthcheck".into()]),
                },
            )]
            .into(),
        tokens: Default::default(),
        database: None,
        zone: None,
        load_balancer_dns: None,
        live: Default::default(),
    }
}

pub(super) fn id_for(k: &Key) -> String {
    format!("id-{}", k.0.replace('/', "-"))
}

/// What AWS would report once `desired` exists exactly as declared.
pub(super) fn converged(desired: &[Desired]) -> Vec<Observed> {
    desired
        .iter()
        .map(|d| Observed {
            key: d.key.clone(),
            id: id_for(&d.key),
            name: d.name.clone(),
            state: d.spec.converged(&id_for),
        })
        .collect()
}
