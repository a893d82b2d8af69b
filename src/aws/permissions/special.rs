//! The account-level exceptions of the administrator's policy: passing roles to ECS, and
//! the service-linked roles.

use serde_json::{Value, json};

use super::{INFRASTRUCTURE_ROLE, ROLES};
use crate::aws;

/// The account-level exceptions, which `up` needs: passing the stack's roles to ECS tasks only,
/// and creating the service-linked roles of ECS and of its autoscaling, and those Elastic Load
/// Balancing and RDS make on their first create (once per account).
pub(super) fn special_statements(fill: &dyn Fn(&str) -> String) -> Vec<Value> {
    let linked: Vec<(&str, &str)> = aws::service_linked_role::ROLES
        .iter()
        .map(|(_, service, role)| (*service, *role))
        .chain(
            aws::service_linked_role::MADE_BY_THEIR_SERVICE
                .iter()
                .copied(),
        )
        .collect();
    vec![
        json!({
            "Sid": "PassTheStacksRolesToEcsTasks",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": ROLES.iter().map(|r| fill(r)).collect::<Vec<_>>(),
            "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }
        }),
        // The role ECS changes the load balancer's rules with during a blue/green, canary or
        // linear deployment (ECS Developer Guide, "Amazon ECS infrastructure IAM role for load
        // balancers").
        json!({
            "Sid": "PassTheInfrastructureRoleToEcs",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": fill(INFRASTRUCTURE_ROLE),
            "Condition": { "StringEquals": { "iam:PassedToService": "ecs.amazonaws.com" } }
        }),
        json!({
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": linked
                .iter()
                .map(|(service, role)| fill(&format!(
                    "arn:{{partition}}:iam::{{account}}:role/aws-service-role/{service}/{role}"
                )))
                .collect::<Vec<_>>(),
            "Condition": { "StringEquals": { "iam:AWSServiceName": linked
                .iter()
                .map(|(service, _)| *service)
                .collect::<Vec<_>>() } }
        }),
    ]
}
