//! The resources each call acts on, as IAM authorizes them (Service Authorization
//! Reference, each service's "Actions defined by" table), from the call's parameters.

use std::collections::BTreeMap;

use faultproxy::classify::Call;

use super::{ACCOUNT, NEW, strings};

/// The ARNs a call acts on, from its parameters; `roles` maps role names to their paths.
pub(super) fn arns(call: &Call, roles: &BTreeMap<String, String>) -> Vec<String> {
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
    // The resource's ARN when the call names it, else built from its name.
    let by_name = |service: &str, kind: &str, key: &str| match json("resourceArn") {
        Some(arn) => vec![arn],
        None => vec![format!("{}{kind}{}", head(service), json(key).unwrap())],
    };
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
                // A new revision of the family.
                "RegisterTaskDefinition" => vec![ecs(
                    "task-definition",
                    None,
                    &format!("{}:new", json("family").unwrap()),
                )],
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
                "UpdateService" | "DeleteService" | "ListServiceDeployments" => {
                    vec![ecs("service", Some(&cluster), &json("service").unwrap())]
                }
                // Authorized on the deployment and on its service.
                "DescribeServiceDeployments" | "StopServiceDeployment" => {
                    let arns = match json("serviceDeploymentArn") {
                        Some(a) => vec![a.to_string()],
                        None => list("serviceDeploymentArns"),
                    };
                    arns.iter()
                        .flat_map(|d| {
                            let service = d.replacen(":service-deployment/", ":service/", 1);
                            let service = service.rsplit_once('/').unwrap().0.to_string();
                            [d.clone(), service]
                        })
                        .collect()
                }
                // Authorized on the revision and on its service.
                "DescribeServiceRevisions" => list("serviceRevisionArns")
                    .iter()
                    .flat_map(|r| {
                        let service = r.replacen(":service-revision/", ":service/", 1);
                        let service = service.rsplit_once('/').unwrap().0.to_string();
                        [r.clone(), service]
                    })
                    .collect(),
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
                "ModifyListener" | "DeleteListener" | "CreateRule" => {
                    vec![form("ListenerArn").unwrap()]
                }
                "ModifyRule" | "DeleteRule" => vec![form("RuleArn").unwrap()],
                "SetRulePriorities" => call
                    .form
                    .iter()
                    .filter(|(k, _)| k.ends_with(".RuleArn"))
                    .map(|(_, v)| v.clone())
                    .collect(),
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
        "ecr" => by_name("ecr", "repository/", "repositoryName"),
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
        "logs" => by_name("logs", "log-group:", "logGroupName"),
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
                // A route table's association: IAM authorizes its route table (`ec2_tags`
                // keeps the association's ID with the table's tags).
                ("AssociationId", "route-table"),
            ];
            let mut found: Vec<String> = ids
                .iter()
                .filter_map(|(param, kind)| {
                    form(param).map(|id| format!("{}{kind}/{id}", head("ec2")))
                })
                .collect();
            // What a create makes, besides the VPC it goes in.
            let new = match call.action.as_str() {
                "CreateVpc" => Some("vpc"),
                "CreateSubnet" => Some("subnet"),
                "CreateSecurityGroup" => Some("security-group"),
                "CreateRouteTable" => Some("route-table"),
                "CreateInternetGateway" => Some("internet-gateway"),
                _ => None,
            };
            found.extend(new.map(|kind| format!("{}{kind}/{NEW}", head("ec2"))));
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
        // Scalable targets' ARNs end in a generated ID: the resource ID stands for it here.
        "application-autoscaling" => vec![format!(
            "{}scalable-target/{}",
            head("application-autoscaling"),
            json("ResourceId").unwrap()
        )],
        other => panic!("no ARN rule for service {other} ({})", call.action),
    }
}
