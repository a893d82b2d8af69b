//! Desired state for the services that deploy blue/green, canary or linear: their second
//! target group and the role ECS changes the load balancer's rules with (ECS Developer Guide,
//! "Amazon ECS infrastructure IAM role for load balancers").

use super::*;

/// The managed policy ECS's infrastructure role for load balancers takes.
pub const INFRASTRUCTURE_POLICY: &str = "policy/AmazonECSInfrastructureRolePolicyForLoadBalancers";

impl Builder<'_> {
    /// A public service's target groups: the one production is on now, and the other when it
    /// has two. A service keeps its second group once it has one, even deploying rolling
    /// again: dropping it could move the requests off the tasks serving them.
    pub(super) fn groups(&self, svc: &Service) -> (Key, Option<Key>) {
        let (primary, alternate) = (target_group(&svc.name), alternate_target_group(&svc.name));
        let live = self.facts.live.get(&svc.name);
        if !svc.deploy.shifts_traffic() && live.is_none() {
            return (primary, None);
        }
        match live {
            Some(k) if *k == alternate => (alternate, Some(primary)),
            _ => (primary, Some(alternate)),
        }
    }

    /// The role, when a service shifts traffic.
    pub(super) fn infrastructure(&mut self) {
        let shifting = self
            .stack
            .services
            .values()
            .any(|s| s.deploy.shifts_traffic());
        if !shifting {
            return;
        }
        let facts = self.facts;
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AllowAccessToECSForInfrastructureManagement",
                "Effect": "Allow",
                "Principal": { "Service": "ecs.amazonaws.com" },
                "Action": "sts:AssumeRole",
            }]
        });
        let spec = aws::iam::Spec {
            path: role_path(self.stack),
            trust_policy: trust.to_string(),
            managed: vec![format!(
                "arn:{}:iam::aws:{INFRASTRUCTURE_POLICY}",
                facts.partition
            )],
            inline: vec![],
            boundary: None,
            after: vec![],
        };
        let name = self.n.infrastructure_role();
        self.push(infrastructure_role(), name, Spec::Role(spec));
    }
}
