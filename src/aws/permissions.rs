//! The IAM permissions stackctl needs, in one table. `stackctl policy` prints them as a policy
//! document scoped to one stack; part1.md shows that document (tests/docs.rs keeps the two
//! equal; tests/policy.rs checks that every call a run makes is in the table).
//!
//! Resources are scoped by the names stackctl gives them (`{stack}-{env}…`, the role path and
//! the parameter and log group prefixes). EC2 gives generated IDs, not names, and List/Describe
//! calls and a few creates take no resource ARN at all (the Service Authorization Reference
//! lists which): those are on `*`, except EC2's deletes, scoped by the tags every create puts on
//! what it makes.

use serde_json::{Value, json};

use crate::names::{TAG_ENV, TAG_STACK};

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
}

use Cmd::*;

/// What an action may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Any,
    /// A statement's Sid and its ARN templates: `{partition}`, `{region}`, `{account}`,
    /// `{stack}`, `{env}`.
    Arns(&'static str, &'static [&'static str]),
    /// EC2 resources (generated IDs, no names to scope by) of these types carrying the stack's
    /// `stackctl:stack` and `stackctl:env` tags (`aws:ResourceTag`), which every create puts
    /// on them in the same call (TagSpecifications).
    Tagged(&'static str, &'static [&'static str]),
}

/// The stack's network: what `down` deletes, never another stack's.
const NETWORK: &[&str] = &[
    "vpc",
    "subnet",
    "security-group",
    "route-table",
    "internet-gateway",
];

const ROLES: &[&str] = &["arn:{partition}:iam::{account}:role/stackctl/{stack}/{env}/*"];
const PARAMETERS: &[&str] =
    &["arn:{partition}:ssm:{region}:{account}:parameter/stackctl/{stack}/{env}/*"];
const LOG_GROUPS: &[&str] = &[
    "arn:{partition}:logs:{region}:{account}:log-group:/stackctl/{stack}/{env}/*",
    "arn:{partition}:logs:{region}:{account}:log-group:/stackctl/{stack}/{env}/*:log-stream:*",
];
const REPOSITORIES: &[&str] =
    &["arn:{partition}:ecr:{region}:{account}:repository/{stack}-{env}/*"];
const CLUSTER: &[&str] = &["arn:{partition}:ecs:{region}:{account}:cluster/{stack}-{env}"];
const SERVICES: &[&str] =
    &["arn:{partition}:ecs:{region}:{account}:service/{stack}-{env}/{stack}-{env}-*"];
const TASKS: &[&str] = &["arn:{partition}:ecs:{region}:{account}:task/{stack}-{env}/*"];
const TASK_DEFINITIONS: &[&str] =
    &["arn:{partition}:ecs:{region}:{account}:task-definition/{stack}-{env}-*:*"];
const ECS_TAGGED: &[&str] = &[
    "arn:{partition}:ecs:{region}:{account}:cluster/{stack}-{env}",
    "arn:{partition}:ecs:{region}:{account}:service/{stack}-{env}/{stack}-{env}-*",
    "arn:{partition}:ecs:{region}:{account}:task-definition/{stack}-{env}-*:*",
];
const LOAD_BALANCER: &[&str] =
    &["arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*"];
const LISTENERS: &[&str] = &[
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{stack}-{env}/*/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*",
];
const TARGET_GROUPS: &[&str] =
    &["arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/{stack}-{env}-*/*"];
const ELB_TAGGED: &[&str] = &[
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{stack}-{env}/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{stack}-{env}/*/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/{stack}-{env}-*/*",
];

/// (action, what it acts on, the commands that call it).
#[rustfmt::skip]
pub const PERMISSIONS: &[(&str, Scope, &[Cmd])] = &[
    ("sts:GetCallerIdentity", Scope::Any, &[Up, Build, RotateToken, Token, Status, Logs, Down]),
    // `down`'s last check for anything still tagged with the stack.
    ("tag:GetResources", Scope::Any, &[Down]),
    // EC2: generated IDs; creates tag what they make (ec2:CreateTags).
    // Placing subnets: also when observing finds one missing (status, or down after a partial up).
    ("ec2:DescribeAvailabilityZones", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:DescribeVpcs", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:DescribeVpcAttribute", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:CreateVpc", Scope::Any, &[Up]),
    ("ec2:ModifyVpcAttribute", Scope::Any, &[Up]),
    ("ec2:DeleteVpc", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
    ("ec2:DescribeSubnets", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:CreateSubnet", Scope::Any, &[Up]),
    ("ec2:ModifySubnetAttribute", Scope::Any, &[Up]),
    ("ec2:DeleteSubnet", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
    ("ec2:DescribeInternetGateways", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:CreateInternetGateway", Scope::Any, &[Up]),
    ("ec2:AttachInternetGateway", Scope::Any, &[Up]),
    ("ec2:DetachInternetGateway", Scope::Tagged("TheStacksNetwork", NETWORK), &[Up, Down]),
    ("ec2:DeleteInternetGateway", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
    ("ec2:DescribeRouteTables", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:CreateRouteTable", Scope::Any, &[Up]),
    ("ec2:CreateRoute", Scope::Any, &[Up]),
    ("ec2:ReplaceRoute", Scope::Any, &[Up]),
    ("ec2:AssociateRouteTable", Scope::Any, &[Up]),
    ("ec2:DisassociateRouteTable", Scope::Any, &[Up, Down]),
    ("ec2:DeleteRouteTable", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
    ("ec2:DescribeSecurityGroups", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ec2:CreateSecurityGroup", Scope::Any, &[Up]),
    ("ec2:AuthorizeSecurityGroupIngress", Scope::Any, &[Up]),
    ("ec2:RevokeSecurityGroupIngress", Scope::Any, &[Up]),
    ("ec2:DeleteSecurityGroup", Scope::Tagged("TheStacksNetwork", NETWORK), &[Down]),
    ("ec2:CreateTags", Scope::Any, &[Up]),
    // ECR
    ("ecr:DescribeRepositories", Scope::Any, &[Up, Build, RotateToken, Status, Down]),
    ("ecr:GetAuthorizationToken", Scope::Any, &[Up, Build]),
    ("ecr:CreateRepository", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
    ("ecr:TagResource", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
    ("ecr:GetLifecyclePolicy", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, RotateToken, Status, Down]),
    ("ecr:PutLifecyclePolicy", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
    ("ecr:PutImageScanningConfiguration", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up]),
    ("ecr:DeleteRepository", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Down]),
    // Pushing an image (the registry API, not the SDK).
    ("ecr:BatchCheckLayerAvailability", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:InitiateLayerUpload", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:UploadLayerPart", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:CompleteLayerUpload", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:PutImage", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    ("ecr:BatchGetImage", Scope::Arns("TheStacksRepositories", REPOSITORIES), &[Up, Build]),
    // IAM: roles live under the stack's path.
    ("iam:ListRoles", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("iam:CreateRole", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
    ("iam:TagRole", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
    ("iam:UpdateAssumeRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
    ("iam:ListAttachedRolePolicies", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down]),
    ("iam:AttachRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
    ("iam:DetachRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, Down]),
    ("iam:ListRolePolicies", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down]),
    ("iam:GetRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, RotateToken, Status, Down]),
    ("iam:PutRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up]),
    ("iam:DeleteRolePolicy", Scope::Arns("TheStacksRoles", ROLES), &[Up, Down]),
    ("iam:DeleteRole", Scope::Arns("TheStacksRoles", ROLES), &[Down]),
    // CloudWatch Logs
    ("logs:DescribeLogGroups", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("logs:CreateLogGroup", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
    ("logs:TagResource", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
    ("logs:PutRetentionPolicy", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Up]),
    ("logs:FilterLogEvents", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Logs]),
    ("logs:GetLogEvents", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Logs]),
    ("logs:DeleteLogGroup", Scope::Arns("TheStacksLogGroups", LOG_GROUPS), &[Down]),
    // SSM Parameter Store: the tokens and the run lock, under the stack's prefix.
    ("ssm:DescribeParameters", Scope::Any, &[Up, RotateToken, Token, Status, Down]),
    ("ssm:GetParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Token, Down]),
    ("ssm:PutParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
    ("ssm:AddTagsToResource", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
    ("ssm:DeleteParameter", Scope::Arns("TheStacksParameters", PARAMETERS), &[Up, RotateToken, Down]),
    // ECS
    ("ecs:DescribeClusters", Scope::Arns("TheStacksCluster", CLUSTER), &[Up, RotateToken, Status, Logs, Down]),
    ("ecs:CreateCluster", Scope::Arns("TheStacksCluster", CLUSTER), &[Up]),
    ("ecs:PutClusterCapacityProviders", Scope::Arns("TheStacksCluster", CLUSTER), &[Up]),
    ("ecs:DeleteCluster", Scope::Arns("TheStacksCluster", CLUSTER), &[Down]),
    ("ecs:TagResource", Scope::Arns("TaggingTheStacksEcsResources", ECS_TAGGED), &[Up, RotateToken]),
    ("ecs:ListTaskDefinitionFamilies", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ecs:ListTaskDefinitions", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ecs:DescribeTaskDefinition", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ecs:RegisterTaskDefinition", Scope::Any, &[Up, RotateToken]),
    ("ecs:DeregisterTaskDefinition", Scope::Any, &[Up, RotateToken, Down]),
    ("ecs:DeleteTaskDefinitions", Scope::Arns("TheStacksTaskDefinitions", TASK_DEFINITIONS), &[Down]),
    ("ecs:ListServices", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("ecs:DescribeServices", Scope::Arns("TheStacksServices", SERVICES), &[Up, RotateToken, Status, Logs, Down]),
    ("ecs:CreateService", Scope::Arns("TheStacksServices", SERVICES), &[Up]),
    ("ecs:UpdateService", Scope::Arns("TheStacksServices", SERVICES), &[Up, RotateToken, Down]),
    ("ecs:DeleteService", Scope::Arns("TheStacksServices", SERVICES), &[Down]),
    ("ecs:ListTasks", Scope::Any, &[Up, RotateToken, Status, Logs]),
    ("ecs:DescribeTasks", Scope::Arns("TheStacksTasks", TASKS), &[Up, RotateToken, Status, Logs]),
    // Elastic Load Balancing
    ("elasticloadbalancing:DescribeLoadBalancers", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("elasticloadbalancing:DescribeListeners", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("elasticloadbalancing:DescribeTargetGroups", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("elasticloadbalancing:DescribeTargetGroupAttributes", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("elasticloadbalancing:DescribeTargetHealth", Scope::Any, &[Up, RotateToken, Status]),
    ("elasticloadbalancing:DescribeTags", Scope::Any, &[Up, RotateToken, Status, Down]),
    ("elasticloadbalancing:CreateLoadBalancer", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
    ("elasticloadbalancing:SetSubnets", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
    ("elasticloadbalancing:SetSecurityGroups", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Up]),
    ("elasticloadbalancing:DeleteLoadBalancer", Scope::Arns("TheStacksLoadBalancer", LOAD_BALANCER), &[Down]),
    ("elasticloadbalancing:CreateListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
    ("elasticloadbalancing:ModifyListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Up]),
    ("elasticloadbalancing:DeleteListener", Scope::Arns("TheStacksListeners", LISTENERS), &[Down]),
    ("elasticloadbalancing:CreateTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
    ("elasticloadbalancing:ModifyTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
    ("elasticloadbalancing:ModifyTargetGroupAttributes", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Up]),
    ("elasticloadbalancing:DeleteTargetGroup", Scope::Arns("TheStacksTargetGroups", TARGET_GROUPS), &[Down]),
    ("elasticloadbalancing:AddTags", Scope::Arns("TaggingTheStacksLoadBalancing", ELB_TAGGED), &[Up]),
];

/// The account-level exceptions: passing the stack's roles to ECS tasks only, and creating
/// ECS's service-linked role (once per account).
fn special_statements(fill: &dyn Fn(&str) -> String) -> Vec<Value> {
    vec![
        json!({
            "Sid": "PassTheStacksRolesToEcsTasks",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": ROLES.iter().map(|r| fill(r)).collect::<Vec<_>>(),
            "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }
        }),
        json!({
            "Sid": "EcsServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": fill(
                "arn:{partition}:iam::{account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
            ),
            "Condition": { "StringEquals": { "iam:AWSServiceName": "ecs.amazonaws.com" } }
        }),
    ]
}

/// Every action the policy allows (with `iam:PassRole` and `iam:CreateServiceLinkedRole`).
pub fn actions() -> Vec<&'static str> {
    let mut all: Vec<&str> = PERMISSIONS.iter().map(|(a, _, _)| *a).collect();
    all.extend(["iam:PassRole", "iam:CreateServiceLinkedRole"]);
    all
}

/// Where the policy applies: values for the ARN templates (`*` where unknown).
pub struct Target<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub stack: &'a str,
    pub env: &'a str,
}

/// The policy document: one statement for the actions that take no resource (or only `*`), one
/// per service and scope for the others, in table order, then the account-level exceptions.
pub fn policy(t: &Target<'_>) -> Value {
    let fill = |template: &str| {
        template
            .replace("{partition}", t.partition)
            .replace("{region}", t.region)
            .replace("{account}", t.account)
            .replace("{stack}", t.stack)
            .replace("{env}", t.env)
    };
    let mut groups: Vec<(Scope, Vec<&str>)> = Vec::new();
    for (action, scope, _) in PERMISSIONS {
        match groups.iter_mut().find(|(sc, _)| sc == scope) {
            Some((_, actions)) => actions.push(action),
            None => groups.push((*scope, vec![action])),
        }
    }
    let mut statements: Vec<Value> = groups
        .into_iter()
        .map(|(scope, actions)| {
            let (sid, resource) = match scope {
                Scope::Any => ("AnyResource", json!("*")),
                Scope::Arns(sid, arns) => {
                    (sid, json!(arns.iter().map(|a| fill(a)).collect::<Vec<_>>()))
                }
                Scope::Tagged(sid, types) => {
                    let arns: Vec<String> = types
                        .iter()
                        .map(|t| {
                            fill(&format!(
                                "arn:{{partition}}:ec2:{{region}}:{{account}}:{t}/*"
                            ))
                        })
                        .collect();
                    let condition = json!({ "StringEquals": {
                        format!("aws:ResourceTag/{TAG_STACK}"): t.stack,
                        format!("aws:ResourceTag/{TAG_ENV}"): t.env,
                    }});
                    return json!({
                        "Sid": sid, "Effect": "Allow", "Action": actions,
                        "Resource": arns, "Condition": condition
                    });
                }
            };
            json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource })
        })
        .collect();
    statements.extend(special_statements(&fill));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The document as people write policies: `Version` first, each statement's `Sid`, `Effect`,
/// `Action`, `Resource`, `Condition` in that order, one action or ARN a line.
pub fn render(doc: &Value) -> String {
    let s = |v: &Value| serde_json::to_string(v).expect("JSON values serialize");
    let list = |v: &Value, indent: &str| match v {
        Value::Array(items) => format!(
            "[\n{}\n{indent}]",
            items
                .iter()
                .map(|i| format!("{indent}  {}", s(i)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        other => s(other),
    };
    let statements: Vec<String> = doc["Statement"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|st| {
            let mut fields = vec![
                format!("      \"Sid\": {}", s(&st["Sid"])),
                format!("      \"Effect\": {}", s(&st["Effect"])),
                format!("      \"Action\": {}", list(&st["Action"], "      ")),
                format!("      \"Resource\": {}", list(&st["Resource"], "      ")),
            ];
            if let Some(c) = st.get("Condition") {
                fields.push(format!("      \"Condition\": {}", s(c)));
            }
            format!("    {{\n{}\n    }}", fields.join(",\n"))
        })
        .collect();
    format!(
        "{{\n  \"Version\": {},\n  \"Statement\": [\n{}\n  ]\n}}\n",
        s(&doc["Version"]),
        statements.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_once_and_sids_unique() {
        let mut all = actions();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "an action is listed twice");
        let p = policy(&Target {
            partition: "aws",
            region: "us-east-1",
            account: "123456789012",
            stack: "demo",
            env: "default",
        });
        let parsed: Value = serde_json::from_str(&render(&p)).unwrap();
        assert_eq!(parsed, p, "render is the same document");
        let sids: Vec<&str> = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        let mut unique = sids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), sids.len(), "{sids:?}");
        let text = p.to_string();
        assert!(text.contains("arn:aws:iam::123456789012:role/stackctl/demo/default/*"));
        assert!(text.contains("loadbalancer/app/demo-default/*"));
        // A managed policy's limit is 6,144 characters without whitespace.
        assert!(text.len() <= 6144, "{} characters", text.len());
    }
}
