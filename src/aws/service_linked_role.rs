//! The account's service-linked role for ECS, `AWSServiceRoleForECS`. A brand-new account has
//! none until something creates it, and ECS refuses the first CreateCluster and CreateService
//! without it (ECS Developer Guide, "Using service-linked roles for Amazon ECS"). It belongs
//! to the account, not to the stack: created when missing, never deleted by `down` (other
//! stacks, and ECS itself, use it).

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::Permission;
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, desired};

/// The principal ECS's service-linked role is for, and the name and path AWS gives it.
pub const ECS_SERVICE: &str = "ecs.amazonaws.com";
pub const ECS_ROLE: &str = "AWSServiceRoleForECS";
const ECS_ROLE_PATH: &str = "/aws-service-role/ecs.amazonaws.com/";

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
    const SHARED: bool = true;
    // Found by iam:ListRoles (which the stack's roles need already); created under an
    // account-level statement in permissions.rs, which needs a condition on the service.
    const PERMISSIONS: &'static [Permission] = &[];

    fn deps(_: &Spec) -> Vec<Key> {
        Vec::new()
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
            arn: format!("arn:aws:iam::123456789012:role/aws-service-role/{}/{ECS_ROLE}", spec.service),
        }
    }

    /// Listed by its path: ListRoles is what the stack's own roles are found with.
    async fn find(aws: &Aws, _: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let listed = aws.iam.list_roles().path_prefix(ECS_ROLE_PATH).send().await;
        let out = listed.ctx("list IAM roles under", ECS_ROLE_PATH)?;
        let role = out.roles().iter().find(|r| r.role_name() == ECS_ROLE);
        Ok(role
            .map(|r| Observed {
                key: desired::ecs_service_linked_role(),
                id: ECS_ROLE.into(),
                name: ECS_ROLE.into(),
                state: plan::State::ServiceLinkedRole(State { arn: r.arn().into() }),
            })
            .into_iter()
            .collect())
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
