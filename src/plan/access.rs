//! Which planned changes only an administrator may make (`Cmd::Access`: who may deploy from
//! CI), so a CI role's `up` stops before changing anything rather than halfway, refused by IAM.

use super::{Action, Change, Fix, Kind, Plan, desired};
use crate::aws::iam;

/// The changes of `plan` outside the deploy role's permissions: GitHub's provider, the CI
/// roles and their policies (with the boundary), and the trust or boundary of the stack's
/// own roles (`stackctl policy --role deploy` holds none of these).
pub fn needs_administrator(plan: &Plan) -> Vec<&Change> {
    let ci_roles = [desired::ci_role("deploy"), desired::ci_role("plan")];
    plan.changes
        .iter()
        .filter(|c| match (c.kind, &c.action) {
            (Kind::OidcProvider | Kind::Policy, _) => true,
            (Kind::Role, _) if ci_roles.contains(&c.key) => true,
            (Kind::Role, Action::Update { fixes }) => fixes.iter().any(|f| {
                matches!(
                    f,
                    Fix::Role(iam::Fix::UpdateTrustPolicy { .. } | iam::Fix::RemoveBoundary)
                )
            }),
            _ => false,
        })
        .collect()
}
