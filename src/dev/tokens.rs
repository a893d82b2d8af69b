//! Each service's local API token: made once, kept in `.stackctl/dev/tokens/<service>` (0600),
//! never printed except by `stackctl token --dev`.

use std::collections::BTreeMap;

use super::DevError;
use super::layout::{Layout, private_dir, write_private};
use crate::aws::ssm::generate_token;
use crate::config::Stack;

/// The tokens of the stack's services with `token: true`, made where missing.
pub fn ensure(layout: &Layout, stack: &Stack) -> Result<BTreeMap<String, String>, DevError> {
    let dir = layout.tokens();
    private_dir(&dir)?;
    let mut tokens = BTreeMap::new();
    for svc in stack.services.values().filter(|s| s.token) {
        let path = dir.join(&svc.name);
        write_private(&path, &generate_token())?;
        tokens.insert(svc.name.clone(), read_file(&path)?);
    }
    Ok(tokens)
}

/// The local token of `service`.
pub fn read(layout: &Layout, service: &str) -> Result<String, DevError> {
    let path = layout.tokens().join(service);
    match std::fs::read_to_string(&path) {
        Ok(v) => Ok(v.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DevError::NoToken {
            service: service.to_string(),
        }),
        Err(e) => Err(DevError::io("read", path)(e)),
    }
}

fn read_file(path: &std::path::Path) -> Result<String, DevError> {
    std::fs::read_to_string(path)
        .map(|v| v.trim().to_string())
        .map_err(DevError::io("read", path))
}
