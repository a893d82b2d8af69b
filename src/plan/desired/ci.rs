//! With `ci.github`: GitHub's OIDC provider, and two roles its jobs assume, each holding what
//! its commands need on this stack (`permissions::DEPLOY`, `permissions::PLAN`) in managed
//! policies: the deploy role, trusted by jobs on the deploy branch (or in the GitHub
//! environment), and the plan role, trusted by pull requests' jobs, with reads only. The
//! deploy role writes the stack's own roles, so those get a permissions boundary it cannot
//! change: whatever policy it puts on them, they can do no more than the stack's tasks need
//! (IAM User Guide, "Permissions boundaries for IAM entities": the effective permissions are
//! what both the boundary and the policies allow).

use serde_json::json;

use super::{Builder, Facts};
use crate::aws::oidc_provider::{AUDIENCE, HOST};
use crate::aws::permissions::{
    self, Cmd, LISTENERS, LOG_GROUPS, REPOSITORIES, RULES, TARGET_GROUPS, Target,
};
use crate::aws::{self};
use crate::plan::resource::{Key, Kind, Spec};

/// The CI roles, by what they do.
pub const CI_ROLES: &[&str] = &["deploy", "plan"];

pub fn oidc_provider() -> Key {
    Key::new(Kind::OidcProvider, "github")
}
pub fn ci_role(role: &str) -> Key {
    Key::new(Kind::Role, &format!("ci-{role}"))
}
pub fn ci_policy(role: &str, part: usize) -> Key {
    Key::new(Kind::Policy, &format!("ci-{role}-{part}"))
}
pub fn ci_boundary() -> Key {
    Key::new(Kind::Policy, "ci-boundary")
}

/// The most the stack's own roles may do: what the task execution role's policies allow (AWS's
/// `AmazonECSTaskExecutionRolePolicy`, this stack's parameters, its database's secret), on this
/// stack's resources only. Task roles hold nothing today.
pub fn boundary_document(t: &Target<'_>) -> String {
    let fill = |s: &str| {
        s.replace("{partition}", t.partition)
            .replace("{region}", t.region)
            .replace("{account}", t.account)
            .replace("{stack}", t.stack)
            .replace("{env}", t.env)
    };
    let logs: Vec<String> = LOG_GROUPS.iter().map(|l| fill(l)).collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            // The token is for the registry, not a repository (ECR API Reference,
            // GetAuthorizationToken); the pulls are of the stack's repositories.
            { "Sid": "RegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*" },
            {
                "Sid": "PullTheStacksImages",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "Resource": fill(REPOSITORIES[0])
            },
            { "Sid": "WriteTheStacksLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": logs },
            {
                "Sid": "ReadTheStacksParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": fill("arn:{partition}:ssm:{region}:{account}:parameter/stackctl/{stack}/{env}/*")
            },
            // What ECS's infrastructure role for load balancers does during a blue/green,
            // canary or linear deployment (its managed policy,
            // AmazonECSInfrastructureRolePolicyForLoadBalancers), on this stack's only.
            {
                "Sid": "ShiftTheStacksTraffic",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
                "Resource": "*"
            },
            {
                "Sid": "MoveTheStacksWeights",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                "Resource": [fill(LISTENERS[0]), fill(RULES[0]), fill(TARGET_GROUPS[0])]
            },
            // Only the secret RDS keeps this stack's instance's password in (its tag names the
            // instance), as the execution role's own policy says.
            {
                "Sid": "ReadTheDatabasesSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": fill("arn:{partition}:secretsmanager:{region}:{account}:secret:rds!db-*"),
                "Condition": { "StringEquals": {
                    "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn":
                        fill("arn:{partition}:rds:{region}:{account}:db:{stack}-{env}")
                } }
            }
        ]
    })
    .to_string()
}

/// The ARN IAM gives GitHub's provider in this account.
pub fn provider_arn(facts: &Facts) -> String {
    format!(
        "arn:{}:iam::{}:oidc-provider/{HOST}",
        facts.partition, facts.account
    )
}

/// Jobs whose GitHub token is for AWS (`aud`) and names `subject` (`sub`) only.
pub fn web_identity_trust(facts: &Facts, subject: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn(facts) },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": {
                format!("{HOST}:aud"): AUDIENCE,
                format!("{HOST}:sub"): subject,
            } }
        }]
    })
    .to_string()
}

impl Builder<'_> {
    pub(super) fn ci(&mut self) {
        let Some(github) = &self.stack.ci else {
            return;
        };
        let facts = self.facts;
        let spec = aws::oidc_provider::Spec {
            audience: AUDIENCE.into(),
            uses_tag: self.n.uses_tag(),
        };
        self.push(oidc_provider(), HOST.into(), Spec::OidcProvider(spec));
        let roles: [(&str, &[Cmd], String); 2] = [
            ("deploy", permissions::DEPLOY, github.deploy_subject()),
            ("plan", permissions::PLAN, github.plan_subject()),
        ];
        let path = self.n.ci_path();
        let target = Target {
            partition: &facts.partition,
            region: &facts.region,
            account: &facts.account,
            stack: &self.stack.name,
            env: &self.stack.env,
            domain: self.stack.domain.as_ref().map(|d| d.name.as_str()),
        };
        // The stack's own roles, made before: bounded.
        let boundary = target.boundary();
        let own = super::role_path(self.stack);
        for d in &mut self.out {
            if let Spec::Role(r) = &mut d.spec
                && r.path == own
            {
                r.boundary = Some(boundary.clone());
                r.after.push(ci_boundary());
            }
        }
        let spec = aws::policy::Spec {
            path: path.clone(),
            document: boundary_document(&target),
        };
        self.push(ci_boundary(), self.n.ci_boundary(), Spec::Policy(spec));
        for (role, cmds, subject) in roles {
            let documents = permissions::documents(&permissions::policy_for(&target, cmds));
            let mut managed = Vec::new();
            let mut after = vec![oidc_provider()];
            for (i, document) in documents.iter().enumerate() {
                let name = self.n.ci_policy(role, i + 1);
                managed.push(format!(
                    "arn:{}:iam::{}:policy{path}{name}",
                    facts.partition, facts.account
                ));
                let spec = aws::policy::Spec {
                    path: path.clone(),
                    document: document.to_string(),
                };
                self.push(ci_policy(role, i + 1), name, Spec::Policy(spec));
                after.push(ci_policy(role, i + 1));
            }
            let spec = aws::iam::Spec {
                path: path.clone(),
                trust_policy: web_identity_trust(facts, &subject),
                managed,
                inline: vec![],
                boundary: None,
                after,
            };
            self.push(ci_role(role), self.n.ci_role(role), Spec::Role(spec));
        }
    }
}
