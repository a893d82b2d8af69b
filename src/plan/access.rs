//! Which planned changes only an administrator may make (`Cmd::Access`: who may deploy from
//! CI), so a CI role's `up` stops before changing anything rather than halfway, refused by IAM.

use super::{Action, Change, Fix, Kind, Plan, desired};
use crate::aws::iam;
use crate::aws::permissions::{self, Cmd, DEPLOY};

/// The changes of `plan` outside the deploy role's permissions: GitHub's provider, the CI
/// roles and their policies (with the boundary), the trust or boundary of the stack's own
/// roles, and deleting what only `down` deletes (the network, the load balancer, the
/// discovery namespace: `stackctl policy --role deploy` holds none of these).
pub fn needs_administrator(plan: &Plan) -> Vec<&Change> {
    let ci_roles = [desired::ci_role("deploy"), desired::ci_role("plan")];
    plan.changes
        .iter()
        .filter(|c| match (c.kind, &c.action) {
            (Kind::OidcProvider | Kind::Policy, _) => true,
            (Kind::Role, _) if ci_roles.contains(&c.key) => true,
            (kind, Action::Delete { .. }) => only_down_deletes(kind),
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

/// Whether deleting a `kind` takes an action only `down` holds.
fn only_down_deletes(kind: Kind) -> bool {
    let all = permissions::all();
    let deploys = |action: &str| {
        all.iter()
            .any(|(a, _, by)| *a == action && by.iter().any(|c| DEPLOY.contains(c)))
    };
    kind.permissions()
        .iter()
        .any(|(action, _, by)| by.contains(&Cmd::Down) && !deploys(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deploy_role_deletes_what_a_service_leaves_behind_and_nothing_down_alone_deletes() {
        let deletable: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| !only_down_deletes(*k))
            .collect();
        for k in [
            Kind::Service,
            Kind::TargetGroup,
            Kind::LogGroup,
            Kind::Repository,
            Kind::Role,
            Kind::SecurityGroup,
            Kind::TaskDefinition,
            Kind::Routes,
            Kind::Discovery,
            Kind::Scaling,
            Kind::Parameter,
            Kind::Listener,
            Kind::Certificate,
            Kind::DnsRecord,
        ] {
            assert!(deletable.contains(&k), "{k:?}");
        }
        for k in [
            Kind::Vpc,
            Kind::LoadBalancer,
            Kind::Namespace,
            Kind::DbInstance,
        ] {
            assert!(!deletable.contains(&k), "{k:?}");
        }
    }
}
