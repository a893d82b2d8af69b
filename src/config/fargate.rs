//! Fargate's task sizes: which cpu/memory pairs AWS accepts.

use super::error::Issues;
use super::file::ServiceFile;

/// Fargate's valid task sizes.
fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let (lo, hi, step) = match cpu {
        256 => return Some(vec![512, 1024, 2048]),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return None,
    };
    Some((lo..=hi).step_by(step as usize).collect())
}

pub(super) fn check_fargate(
    name: &str,
    cpu: u32,
    memory: u32,
    s: &ServiceFile,
    issues: &mut Issues,
) {
    let cpu_span = s
        .cpu
        .as_ref()
        .map(|c| *c.span())
        .unwrap_or_else(|| *s.port.span());
    let Some(valid) = fargate_memory(cpu) else {
        issues.at(
            &cpu_span,
            format!("service `{name}`: cpu {cpu} is not a Fargate size"),
            Some("use 256, 512, 1024, 2048, 4096, 8192 or 16384".into()),
        );
        return;
    };
    if !valid.contains(&memory) {
        let span = s.memory.as_ref().map(|m| *m.span()).unwrap_or(cpu_span);
        let list = if valid.len() > 6 {
            format!(
                "{} to {} in steps of {}",
                valid[0],
                valid[valid.len() - 1],
                valid[1] - valid[0]
            )
        } else {
            valid
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        issues.at(
            &span,
            format!("service `{name}`: memory {memory} is not valid with cpu {cpu} on Fargate"),
            Some(format!("with cpu {cpu}, memory can be {list}")),
        );
    }
}
