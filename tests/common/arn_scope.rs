//! Whether an IAM policy allows the calls a run made, on the resources they acted on: IAM's
//! wildcard match, the ARN each call acts on (from its parameters, as a faultproxy journal
//! keeps them), and `aws:ResourceTag` conditions against the tags read from the account.
//! moto evaluates actions only; tests/iam_enforced.rs checks the resources with this.

use std::collections::BTreeMap;

use faultproxy::classify::Call;
use serde_json::Value;
use stackctl::aws::permissions::{self, Scope};

/// The account of the emulator (moto's).
pub const ACCOUNT: &str = "123456789012";

/// IAM's wildcard match: `*` any run of characters, `?` one (as ELB's patterns).
pub use stackctl::config::routes::wildcard as matches;

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

pub type Tags = BTreeMap<String, String>;

/// Whether some statement of `policy` allows `action` on `arn`, a resource carrying `tags`
/// (the only conditions on these calls are `StringEquals` on `aws:ResourceTag/...`).
fn allowed(policy: &Value, action: &str, arn: &str, tags: &Tags) -> bool {
    policy["Statement"].as_array().unwrap().iter().any(|s| {
        let conditions_hold = || {
            s["Condition"].as_object().is_none_or(|c| {
                c.iter().all(|(op, keys)| {
                    assert_eq!(op, "StringEquals", "a condition this check cannot read");
                    keys.as_object().unwrap().iter().all(|(key, want)| {
                        let tag = key
                            .strip_prefix("aws:ResourceTag/")
                            .expect("a tag condition");
                        tags.get(tag).map(String::as_str) == want.as_str()
                    })
                })
            })
        };
        s["Effect"] == "Allow"
            && strings(&s["Action"]).iter().any(|a| matches(a, action))
            && strings(&s["Resource"]).iter().any(|r| matches(r, arn))
            && conditions_hold()
    })
}

/// EC2's IDs and tags, read as the deployer (every ID `down` will delete).
pub async fn ec2_tags(endpoint: &str, who: &(String, String), into: &mut BTreeMap<String, Tags>) {
    let aws = super::clients_as(endpoint, &who.0, &who.1).await;
    let ec2 = &aws.ec2;
    let tags = |t: &[aws_sdk_ec2::types::Tag]| -> Tags {
        t.iter()
            .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
            .collect()
    };
    for v in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        into.insert(v.vpc_id().unwrap().into(), tags(v.tags()));
    }
    for x in ec2.describe_subnets().send().await.unwrap().subnets() {
        into.insert(x.subnet_id().unwrap().into(), tags(x.tags()));
    }
    for x in ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        into.insert(x.group_id().unwrap().into(), tags(x.tags()));
    }
    for x in ec2
        .describe_route_tables()
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        into.insert(x.route_table_id().unwrap().into(), tags(x.tags()));
    }
    for x in ec2
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        into.insert(x.internet_gateway_id().unwrap().into(), tags(x.tags()));
    }
}

/// The ARNs a call acts on, from its parameters; `roles` maps role names to their paths.
fn arns(call: &Call, roles: &BTreeMap<String, String>) -> Vec<String> {
    let head = |service: &str| format!("arn:aws:{service}:us-east-1:{ACCOUNT}:");
    let json = |k: &str| call.json_str(&format!("/{k}")).map(str::to_string);
    let list = |k: &str| -> Vec<String> {
        call.json
            .as_ref()
            .and_then(|j| j.get(k))
            .map(|v| strings(v).into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let ecs = |kind: &str, cluster: Option<&str>, id: &str| {
        if id.starts_with("arn:") {
            return id.to_string();
        }
        match cluster {
            Some(c) => format!(
                "{}{kind}/{}/{id}",
                head("ecs"),
                c.rsplit('/').next().unwrap()
            ),
            None => format!("{}{kind}/{id}", head("ecs")),
        }
    };
    let form = |k: &str| call.param(k).map(str::to_string);
    match call.service.as_str() {
        "ecs" => {
            let cluster = json("cluster").unwrap_or_else(|| "default".into());
            match call.action.as_str() {
                "DescribeClusters" => list("clusters")
                    .iter()
                    .map(|c| ecs("cluster", None, c))
                    .collect(),
                "CreateCluster" => vec![ecs("cluster", None, &json("clusterName").unwrap())],
                "PutClusterCapacityProviders" | "DeleteCluster" => {
                    vec![ecs("cluster", None, &cluster)]
                }
                "TagResource" => vec![json("resourceArn").unwrap()],
                "DeleteTaskDefinitions" => list("taskDefinitions")
                    .iter()
                    .map(|t| ecs("task-definition", None, t))
                    .collect(),
                "DescribeServices" => list("services")
                    .iter()
                    .map(|s| ecs("service", Some(&cluster), s))
                    .collect(),
                "CreateService" => vec![ecs(
                    "service",
                    Some(&cluster),
                    &json("serviceName").unwrap(),
                )],
                "UpdateService" | "DeleteService" => {
                    vec![ecs("service", Some(&cluster), &json("service").unwrap())]
                }
                "DescribeTasks" => list("tasks")
                    .iter()
                    .map(|t| ecs("task", Some(&cluster), t))
                    .collect(),
                other => panic!("no ARN rule for ecs:{other}"),
            }
        }
        "elasticloadbalancing" => {
            let elb = head("elasticloadbalancing");
            match call.action.as_str() {
                "CreateLoadBalancer" => vec![format!(
                    "{elb}loadbalancer/app/{}/new",
                    form("Name").unwrap()
                )],
                "CreateTargetGroup" => {
                    vec![format!("{elb}targetgroup/{}/new", form("Name").unwrap())]
                }
                "CreateListener" | "SetSubnets" | "SetSecurityGroups" | "DeleteLoadBalancer" => {
                    vec![form("LoadBalancerArn").unwrap()]
                }
                "ModifyListener" | "DeleteListener" => vec![form("ListenerArn").unwrap()],
                "ModifyTargetGroup" | "ModifyTargetGroupAttributes" | "DeleteTargetGroup" => {
                    vec![form("TargetGroupArn").unwrap()]
                }
                "AddTags" => call
                    .params_with_prefix("ResourceArns.member.")
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                other => panic!("no ARN rule for elasticloadbalancing:{other}"),
            }
        }
        "ecr" => match json("resourceArn") {
            Some(arn) => vec![arn],
            None => vec![format!(
                "{}repository/{}",
                head("ecr"),
                json("repositoryName").unwrap()
            )],
        },
        "iam" => {
            let iam = format!("arn:aws:iam::{ACCOUNT}:");
            if let Some(arn) = form("PolicyArn").filter(|_| form("RoleName").is_none()) {
                return vec![arn];
            }
            if let Some(arn) = form("OpenIDConnectProviderArn") {
                return vec![arn];
            }
            match call.action.as_str() {
                "CreatePolicy" => {
                    let (path, name) = (form("Path").unwrap(), form("PolicyName").unwrap());
                    return vec![format!("{iam}policy{path}{name}")];
                }
                "CreateOpenIDConnectProvider" => {
                    let url = form("Url").unwrap();
                    let host = url.trim_start_matches("https://");
                    return vec![format!("{iam}oidc-provider/{host}")];
                }
                _ => {}
            }
            let name =
                form("RoleName").unwrap_or_else(|| panic!("no ARN rule for iam:{}", call.action));
            let path = form("Path")
                .or_else(|| roles.get(&name).cloned())
                .unwrap_or_else(|| panic!("iam:{} on {name}, a role never created", call.action));
            vec![format!("{iam}role{path}{name}")]
        }
        "logs" => match json("resourceArn") {
            Some(arn) => vec![arn],
            None => vec![format!(
                "{}log-group:{}",
                head("logs"),
                json("logGroupName").unwrap()
            )],
        },
        "ssm" => {
            let name = json("Name").or_else(|| json("ResourceId")).unwrap();
            vec![format!("{}parameter{name}", head("ssm"))]
        }
        "ec2" => {
            let ids = [
                ("VpcId", "vpc"),
                ("SubnetId", "subnet"),
                ("GroupId", "security-group"),
                ("RouteTableId", "route-table"),
                ("InternetGatewayId", "internet-gateway"),
            ];
            let found: Vec<String> = ids
                .iter()
                .filter_map(|(param, kind)| {
                    form(param).map(|id| format!("{}{kind}/{id}", head("ec2")))
                })
                .collect();
            assert!(!found.is_empty(), "no ARN rule for ec2:{}", call.action);
            found
        }
        "rds" => {
            // RDS authorizes each resource a call names (Service Authorization Reference,
            // "Actions defined by Amazon RDS").
            let rds = head("rds");
            let mut arns = Vec::new();
            let mut add = |param: &str, kind: &str| {
                if let Some(name) = form(param) {
                    arns.push(format!("{rds}{kind}:{name}"));
                }
            };
            match call.action.as_str() {
                "DescribeDBSubnetGroups"
                | "CreateDBSubnetGroup"
                | "ModifyDBSubnetGroup"
                | "DeleteDBSubnetGroup" => add("DBSubnetGroupName", "subgrp"),
                "DescribeDBInstances" | "ModifyDBInstance" => add("DBInstanceIdentifier", "db"),
                "CreateDBInstance" | "RestoreDBInstanceFromDBSnapshot" => {
                    add("DBInstanceIdentifier", "db");
                    add("DBSubnetGroupName", "subgrp");
                    add("DBSnapshotIdentifier", "snapshot");
                }
                "DeleteDBInstance" => {
                    add("DBInstanceIdentifier", "db");
                    add("FinalDBSnapshotIdentifier", "snapshot");
                }
                "DescribeDBSnapshots" => {
                    add("DBInstanceIdentifier", "db");
                    add("DBSnapshotIdentifier", "snapshot");
                }
                "AddTagsToResource" | "ListTagsForResource" => arns.extend(form("ResourceName")),
                other => panic!("no ARN rule for rds:{other}"),
            }
            assert!(!arns.is_empty(), "rds:{} names no resource", call.action);
            arns
        }
        other => panic!("no ARN rule for service {other} ({})", call.action),
    }
}

pub fn check_scopes(journal: &[Call], policy: &Value, stack: &str, ec2: &BTreeMap<String, Tags>) {
    check_scopes_from(journal, 0, policy, stack, ec2)
}

/// [`check_scopes`] for the calls from `start` on (earlier ones, another principal's, still
/// name the roles' paths).
pub fn check_scopes_from(
    journal: &[Call],
    start: usize,
    policy: &Value,
    stack: &str,
    ec2: &BTreeMap<String, Tags>,
) {
    let roles: BTreeMap<String, String> = journal
        .iter()
        .filter(|c| c.is("iam", "CreateRole"))
        .map(|c| {
            (
                c.param("RoleName").unwrap().into(),
                c.param("Path").unwrap().into(),
            )
        })
        .collect();
    let other = "zz".repeat(stack.len() / 2);
    let (mut checked, mut refused) = (0, Vec::new());
    for call in &journal[start..] {
        let action = format!("{}:{}", call.service.replace("tagging", "tag"), call.action);
        let Some((_, scope, _)) = permissions::all()
            .into_iter()
            .find(|(a, _, _)| *a == action)
        else {
            assert!(
                action == "iam:CreateServiceLinkedRole",
                "{action} is called but not in the policy"
            );
            continue;
        };
        if scope == Scope::Any {
            assert!(allowed(policy, &action, "*", &Tags::new()), "{action} on *");
            continue;
        }
        for arn in arns(call, &roles) {
            checked += 1;
            // EC2's resources are the stack's by their tags, the others by their names.
            let (tags, theirs_tags, theirs) = match scope {
                Scope::Tagged(..) => {
                    let id = arn.rsplit('/').next().unwrap();
                    let tags = ec2
                        .get(id)
                        .unwrap_or_else(|| panic!("{id}: tags never read"));
                    let mut theirs = tags.clone();
                    theirs.insert("stackctl:stack".into(), other.clone());
                    (tags.clone(), theirs, arn.clone())
                }
                _ => (Tags::new(), Tags::new(), arn.replace(stack, &other)),
            };
            if !allowed(policy, &action, &arn, &tags) {
                refused.push(format!("{action} on {arn} {tags:?}"));
            }
            // GitHub's provider is the account's, one per URL: nothing to scope it by.
            if matches!(scope, Scope::Arns("GitHubsIdentityProvider", _)) {
                continue;
            }
            assert!(
                theirs != arn || theirs_tags != tags,
                "{action}: nothing in {arn} names the stack"
            );
            assert!(
                !allowed(policy, &action, &theirs, &theirs_tags),
                "{action} is allowed on another stack's {theirs} {theirs_tags:?}"
            );
        }
    }
    eprintln!(
        "[iam] {} calls journaled, {checked} scoped ARNs checked",
        journal.len()
    );
    assert!(checked > 50, "only {checked} scoped calls seen");
    assert!(
        refused.is_empty(),
        "the scoped policy refuses:\n{}",
        refused.join("\n")
    );
}
