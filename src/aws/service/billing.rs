//! What a service's tasks are billed for: Fargate by the vCPU and memory its task
//! definition asks for, and a public IPv4 address each (tasks run in public subnets).

use crate::cost::{Assumptions, Inputs, Meter, Usage, fmt_num};
use crate::plan::{Key, Kind, ServiceSpec, ServiceState};

/// An autoscaled service at the count it runs now (`up` leaves it), else at its first.
pub fn desired(key: &Key, spec: &ServiceSpec, i: &Inputs<'_>) -> Vec<Usage> {
    let count = match spec.scaled {
        true => (i.running)(&key.0).unwrap_or(spec.desired),
        false => spec.desired,
    };
    match (i.task_size)(&spec.task_definition.0) {
        Some((cpu, memory)) => tasks(count, cpu, memory, true, &i.assumptions),
        None => Vec::new(),
    }
}

/// The revision it runs, else (a revision since replaced) its family's latest.
pub fn now(key: &Key, have: &ServiceState, i: &Inputs<'_>) -> Vec<Usage> {
    let family = Key::new(Kind::TaskDefinition, key.name());
    match (i.task_size)(&have.task_definition).or_else(|| (i.task_size)(&family.0)) {
        Some((cpu, memory)) => tasks(have.desired, cpu, memory, have.public_ip, &i.assumptions),
        None => Vec::new(),
    }
}

fn tasks(count: i32, cpu: u32, memory: u32, public_ip: bool, a: &Assumptions) -> Vec<Usage> {
    let n = f64::from(count.max(0));
    let vcpu = f64::from(cpu) / 1024.0;
    let gb = f64::from(memory) / 1024.0;
    let h = fmt_num(a.hours);
    let tasks = if count == 1 { "task" } else { "tasks" };
    let mut out = vec![
        Usage::new(
            Meter::FargateVcpuHours,
            n * vcpu * a.hours,
            format!("{count} {tasks} × {} vCPU × {h} h", fmt_num(vcpu)),
        ),
        Usage::new(
            Meter::FargateGbHours,
            n * gb * a.hours,
            format!("{count} {tasks} × {} GB × {h} h", fmt_num(gb)),
        ),
    ];
    if public_ip {
        out.push(Usage::new(
            Meter::PublicIpv4Hours,
            n * a.hours,
            format!("{count} public IPv4 × {h} h"),
        ));
    }
    out
}
