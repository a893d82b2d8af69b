//! The account's service-linked roles the stack needs: ECS's, `AWSServiceRoleForECS`, and
//! Application Auto Scaling's for ECS services. A brand-new account has none until something
//! creates them, and ECS refuses the first CreateCluster and CreateService without its own
//! (ECS Developer Guide, "Using service-linked roles for Amazon ECS"); RegisterScalableTarget
//! makes its own only if the caller may (Application Auto Scaling User Guide, "Service-linked
//! roles for Application Auto Scaling"): made here, the plan shows it. They belong to the
//! account, not to the stack: created when missing, never deleted by `down` (other stacks, and
//! the services themselves, use them).

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::Permission;
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed};

/// The principal ECS's service-linked role is for, and the name AWS gives it.
pub const ECS_SERVICE: &str = "ecs.amazonaws.com";
pub const ECS_ROLE: &str = "AWSServiceRoleForECS";
/// Application Auto Scaling's role for scaling ECS services.
pub const SCALING_SERVICE: &str = "ecs.application-autoscaling.amazonaws.com";
pub const SCALING_ROLE: &str = "AWSServiceRoleForApplicationAutoScaling_ECSService";
/// Every service-linked role the stack may need: (key name, service, role name).
pub const ROLES: &[(&str, &str, &str)] = &[
    ("ecs", ECS_SERVICE, ECS_ROLE),
    ("ecs-scaling", SCALING_SERVICE, SCALING_ROLE),
];
/// Service-linked roles their service makes on its first create in an account, with the
/// caller's `iam:CreateServiceLinkedRole`: Elastic Load Balancing's with the first load
/// balancer or target group (Elastic Load Balancing User Guide, "Elastic Load Balancing
/// service-linked role"), RDS's with the first DB instance (RDS User Guide, "Using
/// service-linked roles for Amazon RDS"). (service, role name).
pub const MADE_BY_THEIR_SERVICE: &[(&str, &str)] = &[
    (
        "elasticloadbalancing.amazonaws.com",
        "AWSServiceRoleForElasticLoadBalancing",
    ),
    ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
];
const PATH: &str = "/aws-service-role/";

/// A service-linked role of the account.
pub struct ServiceLinkedRole;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    /// The AWS service it is for.
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub arn: String,
}

/// Nothing to correct: AWS owns its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Fix {}

impl std::fmt::Display for Fix {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

impl Resource for ServiceLinkedRole {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    // Found by iam:ListRoles (which the stack's roles need already); created under an
    // account-level statement in permissions.rs, which needs a condition on the service.
    const PERMISSIONS: &'static [Permission] = &[];

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
    }

    fn shared(_: &State) -> bool {
        true
    }

    /// Never deleted.
    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(_: &Spec, _: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        Ok(vec![])
    }

    fn summary(_: &State) -> String {
        "the account's (never deleted by stackctl)".into()
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({ "deleted_by_down": false })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            arn: format!("arn:aws:iam::123456789012:role/aws-service-role/{}/role", spec.service),
        }
    }

    /// Listed by their path: ListRoles is what the stack's own roles are found with.
    async fn find(aws: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let mut found = Vec::new();
        let mut pages = aws.iam.list_roles().path_prefix(PATH).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("list IAM roles under", PATH)?;
            for r in page.roles() {
                let Some((key, _, name)) = ROLES.iter().find(|(_, _, n)| *n == r.role_name())
                else {
                    continue;
                };
                found.push(Observed {
                    key: Key::new(Kind::ServiceLinkedRole, key),
                    id: (*name).into(),
                    name: (*name).into(),
                    state: plan::State::ServiceLinkedRole(State { arn: r.arn().into() }),
                });
            }
        }
        Ok(found)
    }

    /// AWS says the name "has been taken" when it exists already: that is success. ECS may
    /// refuse it for a while after (propagation): the cluster's and services' creates wait.
    async fn create(cx: &Cx<'_>, _: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let created = cx
            .aws
            .iam
            .create_service_linked_role()
            .aws_service_name(&spec.service)
            .send()
            .await
            .ctx("create service-linked role for", &spec.service);
        match created {
            Err(e) if !e.is_already_exists() => Err(e),
            _ => Ok(name.into()),
        }
    }

    async fn fix(_: &Cx<'_>, _: &Spec, _: &Observed, _: &State, fix: &Fix) -> Result<(), AwsError> {
        match *fix {}
    }

    /// Never planned (the kind is shared); if it were, leaving it is the right answer.
    async fn delete(_: &Cx<'_>, _: &Observed, _: &State) -> Result<(), AwsError> {
        Ok(())
    }
}

/// ECS's refusal while the account's service-linked role is missing or not usable yet.
pub fn is_pending(e: &AwsError) -> bool {
    e.message
        .to_ascii_lowercase()
        .contains("unable to assume the service linked role")
}
