//! Plans for humans (`+ ~ - !` lines and a summary) and for scripts (JSON).

use std::fmt::Write;

use super::{Action, Plan};

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        let (sign, note) = match &c.action {
            Action::Create { .. } => ('+', String::new()),
            Action::Update { .. } => ('~', String::new()),
            Action::Delete { id } => ('-', format!(" [{id}]")),
            Action::Blocked { .. } => ('!', String::new()),
        };
        let _ = writeln!(
            out,
            "{sign} {} {} ({}){note}",
            c.kind.label(),
            c.name,
            c.key
        );
        match &c.action {
            Action::Create { spec } => spec.details().iter().for_each(|d| {
                let _ = writeln!(out, "    {d}");
            }),
            Action::Update { fixes } => fixes.iter().for_each(|f| {
                let _ = writeln!(out, "    {f}");
            }),
            Action::Blocked { reason } => {
                let _ = writeln!(out, "    cannot change in place: {reason}");
            }
            _ => {}
        }
    }
    let _ = writeln!(out, "{}", summary(plan));
    out
}

pub fn summary(plan: &Plan) -> String {
    if plan.is_empty() {
        return format!("No changes: {} resources up to date.", plan.unchanged);
    }
    let add = plan.count(|a| matches!(a, Action::Create { .. }));
    let change = plan.count(|a| matches!(a, Action::Update { .. }));
    let del = plan.count(|a| matches!(a, Action::Delete { .. }));
    let blocked = plan.count(|a| matches!(a, Action::Blocked { .. }));
    let mut s = format!(
        "Plan: {add} to add, {change} to change, {del} to destroy, {} unchanged.",
        plan.unchanged
    );
    if blocked > 0 {
        let _ = write!(s, " {blocked} blocked (see `!` above).");
    }
    s
}

pub fn render_json(plan: &Plan) -> serde_json::Value {
    serde_json::json!({
        "changes": plan.changes,
        "summary": {
            "add": plan.count(|a| matches!(a, Action::Create { .. })),
            "change": plan.count(|a| matches!(a, Action::Update { .. })),
            "destroy": plan.count(|a| matches!(a, Action::Delete { .. })),
            "blocked": plan.count(|a| matches!(a, Action::Blocked { .. })),
            "unchanged": plan.unchanged,
        }
    })
}
