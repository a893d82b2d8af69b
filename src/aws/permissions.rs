//! The IAM permissions stackctl needs, in one table. `stackctl policy` prints them as a policy
//! document scoped to one stack; part1.md shows that document (tests/docs.rs keeps the two
//! equal; tests/policy.rs checks that every call a run makes is in the table). Each resource
//! kind lists its own actions in its module; this file holds the rest and the ARN templates.
//!
//! Resources are scoped by the names stackctl gives them (`{stack}-{env}…`, the role path and
//! the parameter and log group prefixes), and what has generated IDs by the tags every create
//! puts on what it makes (`Scope`). List/Describe calls and three writes take no resource IAM
//! can scope (the Service Authorization Reference lists which): those are on `*`.

use serde_json::{Value, json};

use crate::plan::Kind;

/// A command a person runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Up,
    Build,
    RotateToken,
    Token,
    Status,
    Logs,
    Down,
    /// `stackctl rollback`: a service back on an earlier revision.
    Rollback,
    /// `stackctl cost --refresh`.
    Cost,
    /// `stackctl check`.
    Check,
    /// `up` when it changes who may deploy from CI: the OIDC provider, the CI roles and their
    /// policies. Never in the CI roles' own permissions.
    Access,
}

impl Cmd {
    /// Every command: what `stackctl policy` covers.
    pub const ALL: &'static [Cmd] = &[
        Up,
        Build,
        RotateToken,
        Token,
        Status,
        Logs,
        Down,
        Rollback,
        Cost,
        Check,
        Access,
    ];
}

/// The commands the CI deploy role may run: a deploy, and the checks after it.
pub const DEPLOY: &[Cmd] = &[Up, Build, Status, Check];
/// The commands the CI plan role may run on a pull request: reads only (`plan` and `status`
/// read what `status` reads), no secret among them.
pub const PLAN: &[Cmd] = &[Status];

use Cmd::*;

/// The stack's network: what `down` deletes, never another stack's.
pub const NETWORK: &[&str] = &[
    "vpc",
    "subnet",
    "security-group",
    "route-table",
    "internet-gateway",
];

/// The VPC `ec2:CreateVpc` makes (`Scope::New`).
pub const NEW_VPC: &[&str] = &["arn:{partition}:ec2:{region}:{account}:vpc/*"];
/// What the other network creates make; the VPC they go in must be the stack's (`Tagged`),
/// so none lands in the default VPC or another tool's.
pub const NEW_NETWORK: &[&str] = &[
    "arn:{partition}:ec2:{region}:{account}:subnet/*",
    "arn:{partition}:ec2:{region}:{account}:security-group/*",
    "arn:{partition}:ec2:{region}:{account}:route-table/*",
    "arn:{partition}:ec2:{region}:{account}:internet-gateway/*",
];
/// The creates `ec2:CreateTags` is allowed within: those of [`NEW_NETWORK`].
pub const NETWORK_CREATES: &[&str] = &[
    "CreateVpc",
    "CreateSubnet",
    "CreateSecurityGroup",
    "CreateRouteTable",
    "CreateInternetGateway",
];
/// Creates that take no resource ARN (`*` only), conditioned on their request's tags.
pub const ANY_NEW: &[&str] = &["*"];
pub const CERTIFICATES: &[&str] = &["arn:{partition}:acm:{region}:{account}:certificate/*"];
/// Scalable targets' ARNs end in a generated ID: the stack's by their tags.
pub const SCALABLE_TARGETS: &[&str] =
    &["arn:{partition}:application-autoscaling:{region}:{account}:scalable-target/*"];
pub const NAMESPACES: &[&str] =
    &["arn:{partition}:servicediscovery:{region}:{account}:namespace/*"];
pub const DISCOVERY_SERVICES: &[&str] =
    &["arn:{partition}:servicediscovery:{region}:{account}:service/*"];
pub const ROLES: &[&str] = &["arn:{partition}:iam::{account}:role/stackctl/{stack}/{env}/*"];
pub const INFRASTRUCTURE_ROLE: &str =
    "arn:{partition}:iam::{account}:role/stackctl/{stack}/{env}/{stack}-{env}-ecs-infra";
/// The CI roles and their policies (`Names::ci_path`), out of [`ROLES`]' reach.
pub const CI_ROLES: &[&str] = &["arn:{partition}:iam::{account}:role/stackctl-ci/{stack}/{env}/*"];
pub const CI_POLICIES: &[&str] =
    &["arn:{partition}:iam::{account}:policy/stackctl-ci/{stack}/{env}/*"];
pub const OIDC_PROVIDER: &[&str] =
    &["arn:{partition}:iam::{account}:oidc-provider/token.actions.githubusercontent.com"];
pub const PARAMETERS: &[&str] =
    &["arn:{partition}:ssm:{region}:{account}:parameter/stackctl/{stack}/{env}/*"];
pub const LOG_GROUPS: &[&str] = &[
    "arn:{partition}:logs:{region}:{account}:log-group:/stackctl/{stack}/{env}/*",
    "arn:{partition}:logs:{region}:{account}:log-group:/stackctl/{stack}/{env}/*:log-stream:*",
];
pub const REPOSITORIES: &[&str] =
    &["arn:{partition}:ecr:{region}:{account}:repository/{stack}-{env}/*"];
pub const CLUSTER: &[&str] = &["arn:{partition}:ecs:{region}:{account}:cluster/{stack}-{env}"];
pub const SERVICES: &[&str] =
    &["arn:{partition}:ecs:{region}:{account}:service/{stack}-{env}/{stack}-{env}-*"];
pub const TASKS: &[&str] = &["arn:{partition}:ecs:{region}:{account}:task/{stack}-{env}/*"];
pub const TASK_DEFINITIONS: &[&str] =
    &["arn:{partition}:ecs:{region}:{account}:task-definition/{stack}-{env}-*:*"];
pub const ECS_TAGGED: &[&str] = &[
    "arn:{partition}:ecs:{region}:{account}:cluster/{stack}-{env}",
    "arn:{partition}:ecs:{region}:{account}:service/{stack}-{env}/{stack}-{env}-*",
    "arn:{partition}:ecs:{region}:{account}:task-definition/{stack}-{env}-*:*",
];
pub const LOAD_BALANCER: &[&str] =
    &["arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*"];
pub const LISTENERS: &[&str] = &[
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{stack}-{env}/*/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*",
];
pub const RULES: &[&str] = &[
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener-rule/app/{stack}-{env}/*/*/*",
];
pub const TARGET_GROUPS: &[&str] =
    &["arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/{stack}-{env}-*/*"];
pub const ELB_TAGGED: &[&str] = &[
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{stack}-{env}/*/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener-rule/app/{stack}-{env}/*/*/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/{stack}-{env}-*/*",
];

/// The alarms target tracking makes for the stack's services: `TargetTracking-<resource id>-…`.
pub const ALARMS: &[&str] =
    &["arn:{partition}:cloudwatch:{region}:{account}:alarm:TargetTracking-service/{stack}-{env}/*"];
pub const DB_SUBNET_GROUP: &[&str] =
    &["arn:{partition}:rds:{region}:{account}:subgrp:{stack}-{env}"];
pub const DB_INSTANCE: &[&str] = &["arn:{partition}:rds:{region}:{account}:db:{stack}-{env}"];
/// Creating, restoring or modifying the instance: the instance, its subnet group, the default
/// parameter and option groups, the security group, and a snapshot of the stack to restore.
pub const DB_CREATE: &[&str] = &[
    "arn:{partition}:rds:{region}:{account}:db:{stack}-{env}",
    "arn:{partition}:rds:{region}:{account}:subgrp:{stack}-{env}",
    "arn:{partition}:rds:{region}:{account}:pg:default.postgres*",
    "arn:{partition}:rds:{region}:{account}:og:default:postgres-*",
    "arn:{partition}:rds:{region}:{account}:secgrp:*",
    "arn:{partition}:rds:{region}:{account}:snapshot:{stack}-{env}-*",
];
pub const RDS_TAGGED: &[&str] = &[
    "arn:{partition}:rds:{region}:{account}:db:{stack}-{env}",
    "arn:{partition}:rds:{region}:{account}:subgrp:{stack}-{env}",
];
/// Deleting the instance takes a final snapshot named after it.
pub const DB_SNAPSHOTS: &[&str] = &[
    "arn:{partition}:rds:{region}:{account}:db:{stack}-{env}",
    "arn:{partition}:rds:{region}:{account}:snapshot:{stack}-{env}-*",
];
/// The secrets RDS makes for managed master passwords are named `rds!db-<uuid>`.
pub const DB_SECRETS: &[&str] =
    &["arn:{partition}:secretsmanager:{region}:{account}:secret:rds!db-*"];

/// The statement of [`BOUNDED`] writes in a CI role's policy.
const WITHIN_BOUNDARY: &str = "TheStacksRolesWithinTheirBoundary";

/// An action, what it acts on, the commands that call it.
pub type Permission = (&'static str, Scope, &'static [Cmd]);

/// What no one resource kind calls: who the caller is, `down`'s last sweep, tagging on
/// create, pushing images, reading logs and tasks. Each kind lists its own actions
/// (`Resource::PERMISSIONS`, in its module).
#[rustfmt::skip]
const COMMON: &[Permission] = &[
    ("sts:GetCallerIdentity", Scope::Any, &[Up, Build, RotateToken, Token, Status, Logs, Down, Check]),
    // `down`'s last check for anything still tagged with the stack.
    ("tag:GetResources", Scope::Any, &[Down]),
    // EC2 creates tag what they make in the same call (TagSpecifications), which IAM
    // authorizes as ec2:CreateTags too.
    ("ec2:CreateTags", Scope::TagOnCreate("TaggingTheStacksNewNetwork", NETWORK_CREATES), &[Up]),
    // Pushing an image (the registry API, not the SDK).
    ("ecr:GetAuthorizationToken", Scope::Any, &[Up, Build]),
    ("ecr:BatchCheckLayerAvailability", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:InitiateLayerUpload", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:UploadLayerPart", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:CompleteLayerUpload", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:PutImage", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:BatchGetImage", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    // What the scan on push found in the images `up` pushed (`up --fail-on`).
    ("ecr:DescribeImageScanFindings", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
    ("logs:FilterLogEvents", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Logs]),
    // Also a failed rollout's last log lines.
    ("logs:GetLogEvents", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Logs, Up, RotateToken, Rollback]),
    // Tags on ECS resources go in their create calls; ECS checks TagResource too.
    ("ecs:TagResource", Scope::Arns("TaggingTheStacksEcsResources", ECS_TAGGED), &[Up, RotateToken]),
    // A rollout's tasks: what they are doing, why they stopped.
    ("ecs:ListTasks", Scope::Any, &[Up, RotateToken, Status, Logs, Check, Rollback]),
    // `check resilience` stops one of the stack's tasks, as a failure would.
    ("ecs:StopTask", Scope::Arns("TheStacksTasks", TASKS), &[Check]),
    ("ecs:DescribeTasks", Scope::Arns("TheStacksTasks", TASKS), &[Up, RotateToken, Status, Logs, Check, Rollback]),
    ("elasticloadbalancing:DescribeTargetHealth", Scope::Any, &[Up, RotateToken, Status, Check, Rollback]),
    // Load balancers and target groups are found by their tags.
    ("elasticloadbalancing:DescribeTags", Scope::Any, &[Up, RotateToken, Status, Down, Check]),
    ("elasticloadbalancing:AddTags", Scope::Arns("TaggingTheStacksLoadBalancing", ELB_TAGGED), &[Up]),
    // RDS checks AddTagsToResource for the tags of its creates.
    ("rds:AddTagsToResource", Scope::Arns("TaggingTheStacksDatabase", RDS_TAGGED), &[Up]),
    // `cost --refresh`: the Price List API takes no resource.
    ("pricing:GetProducts", Scope::Any, &[Cost]),
];

/// Every permission: each kind's in registry order, then the common ones.
pub fn all() -> Vec<Permission> {
    let mut all: Vec<Permission> = Kind::ALL
        .iter()
        .flat_map(|k| k.permissions().iter().copied())
        .collect();
    all.extend_from_slice(COMMON);
    all
}

/// Every action the policy allows, once per statement that allows it (`iam:PassRole` twice:
/// the task roles to ECS tasks, the infrastructure role to ECS).
pub fn actions() -> Vec<&'static str> {
    let mut all: Vec<&str> = self::all().iter().map(|(a, _, _)| *a).collect();
    all.extend([
        "iam:PassRole",
        "iam:PassRole",
        "iam:CreateServiceLinkedRole",
    ]);
    all
}

/// Where the policy applies: values for the ARN templates (`*` where unknown).
pub struct Target<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub stack: &'a str,
    pub env: &'a str,
    /// The stack's domain (lowercase, no trailing dot), which pins its Route 53 records.
    pub domain: Option<&'a str>,
}

impl Target<'_> {
    /// The ARN of the stack's CI permissions boundary (`Names::ci_boundary`).
    pub fn boundary(&self) -> String {
        let n = crate::names::Names::new(self.stack, self.env);
        format!(
            "arn:{}:iam::{}:policy{}{}",
            self.partition,
            self.account,
            n.ci_path(),
            n.ci_boundary()
        )
    }
}

/// Writes to the stack's roles that IAM can condition on the role's permissions boundary
/// (`iam:PermissionsBoundary`, IAM User Guide, "Permissions boundaries for IAM entities"):
/// a CI role makes them only on roles bounded by the stack's boundary, so no policy it puts on
/// them reaches past it.
pub const BOUNDED: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
];

/// The policy document: one statement for the actions that take no resource (or only `*`), one
/// per scope for the others (in registry order, actions sorted), then the account-level
/// exceptions.
pub fn policy(t: &Target<'_>) -> Value {
    policy_for(t, Cmd::ALL)
}

/// [`policy`] with only what `cmds` need: the CI roles' permissions ([`DEPLOY`], [`PLAN`]).
/// Without [`Cmd::Access`], the writes to the stack's roles in [`BOUNDED`] hold only within
/// the stack's permissions boundary.
pub fn policy_for(t: &Target<'_>, cmds: &[Cmd]) -> Value {
    let fill = |template: &str| {
        template
            .replace("{partition}", t.partition)
            .replace("{region}", t.region)
            .replace("{account}", t.account)
            .replace("{stack}", t.stack)
            .replace("{env}", t.env)
    };
    let mut groups: Vec<(Scope, Vec<&str>)> = Vec::new();
    let wanted = |used_by: &[Cmd]| used_by.iter().any(|c| cmds.contains(c));
    let bounded = !cmds.contains(&Access);
    for (action, mut scope, _) in all().into_iter().filter(|(_, _, by)| wanted(by)) {
        if bounded && scope == Scope::Arns("TheStacksRoles", ROLES) && BOUNDED.contains(&action) {
            scope = Scope::Arns(WITHIN_BOUNDARY, ROLES);
        }
        match groups.iter_mut().find(|(sc, _)| *sc == scope) {
            Some((_, actions)) => actions.push(action),
            None => groups.push((scope, vec![action])),
        }
    }
    for (_, actions) in &mut groups {
        actions.sort_unstable();
    }
    let person = cmds.contains(&Access);
    let mut statements: Vec<Value> = groups
        .into_iter()
        .filter_map(|(scope, actions)| {
            let mut s = scope::statement(scope, &actions, t, person, &fill)?;
            if s["Sid"] == WITHIN_BOUNDARY {
                s["Condition"] = json!({ "ArnLike": { "iam:PermissionsBoundary": t.boundary() } });
            }
            Some(s)
        })
        .collect();
    if cmds.contains(&Up) {
        statements.extend(special_statements(&fill));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// IAM's limit on one managed policy, in characters not counting whitespace (IAM User Guide,
/// "IAM and AWS STS quotas": managed policy size, 6,144 characters).
pub const MANAGED_POLICY_MAX: usize = 6144;

/// Characters IAM counts in `doc`: its JSON without whitespace.
pub fn size(doc: &Value) -> usize {
    doc.to_string().len()
}

/// `policy` as managed policies IAM accepts: itself while it fits in [`MANAGED_POLICY_MAX`];
/// else its statements, in order, in as few documents as that takes (a long stack or
/// environment name makes every ARN longer). Attach them all.
pub fn documents(policy: &Value) -> Vec<Value> {
    let doc = |statements: &[Value]| json!({ "Version": "2012-10-17", "Statement": statements });
    let all = policy["Statement"].as_array().cloned().unwrap_or_default();
    let mut parts: Vec<Vec<Value>> = vec![Vec::new()];
    for statement in all {
        let part = parts.last_mut().expect("one part at least");
        part.push(statement);
        if part.len() > 1 && size(&doc(part)) > MANAGED_POLICY_MAX {
            let moved = part.pop().expect("just pushed");
            parts.push(vec![moved]);
        }
    }
    parts.iter().map(|p| doc(p)).collect()
}

mod render;
mod scope;
mod special;
pub use render::render;
pub use scope::Scope;
use special::special_statements;

#[cfg(test)]
mod tests;
