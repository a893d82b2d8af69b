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

/// The local token of `service` (None: the stack's only service with a token).
pub fn read(layout: &Layout, stack: &Stack, service: Option<&str>) -> Result<String, DevError> {
    let name = match service {
        Some(s) => s.to_string(),
        None => {
            let with: Vec<&str> = stack
                .services
                .values()
                .filter(|s| s.token)
                .map(|s| s.name.as_str())
                .collect();
            match with.as_slice() {
                [one] => one.to_string(),
                [] => return Err(DevError::NoTokenService),
                _ => {
                    return Err(DevError::NoToken {
                        service: format!("(name one of: {})", with.join(", ")),
                    });
                }
            }
        }
    };
    let path = layout.tokens().join(&name);
    match std::fs::read_to_string(&path) {
        Ok(v) => Ok(v.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(DevError::NoToken { service: name })
        }
        Err(e) => Err(DevError::io("read", path)(e)),
    }
}

fn read_file(path: &std::path::Path) -> Result<String, DevError> {
    std::fs::read_to_string(path)
        .map(|v| v.trim().to_string())
        .map_err(DevError::io("read", path))
}
