//! Least privilege, proven against a moto of its own with IAM enforcement on.
//!
//! - `up → rotate-token → down` as an IAM user holding only what `stackctl policy` prints works;
//!   the same steps as users each missing one action fail at the step that needs it.
//!   moto evaluates actions but not resource ARNs or conditions (it sees every resource as `*`),
//!   so that user's policy has its resources widened to `*` and its conditions dropped.
//! - The resources are checked here instead: every call of the run, with the ARN it acts on, is
//!   allowed by some statement of the scoped policy, and the same call on another stack's
//!   resources is not.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Project, clients, free_port, moto};
use faultproxy::classify::Call;
use faultproxy::{FaultConfig, Proxy};
use serde_json::Value;
use stackctl::aws::permissions::{PERMISSIONS, Scope};

const ACCOUNT: &str = "123456789012";

/// A moto server of the test's own: IAM enforcement is process-wide in moto.
struct OwnMoto {
    child: Child,
    url: String,
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn own_moto() -> OwnMoto {
    let port = free_port();
    let launcher =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/moto_enforcing.py");
    let child = Command::new("python3")
        .arg(launcher)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_ECS_SERVICE_RUNNING", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(format!("{url}/moto-api/")).send().await.is_err() {
        assert!(Instant::now() < deadline, "moto did not start on {url}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    OwnMoto { child, url }
}

/// From now on moto checks every call against the caller's IAM policies.
async fn enforce(moto: &str) {
    let r = reqwest::Client::new()
        .post(format!("{moto}/moto-api/reset-auth"))
        .body("0")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

/// The policy `stackctl policy` prints for the project.
fn printed_policy(p: &Project, account: Option<&str>) -> Value {
    let mut cmd = p.command("", &["policy"]);
    if let Some(a) = account {
        cmd.args(["--account", a]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What moto can evaluate: every resource `*`, no conditions; without `remove` if given.
fn widened(mut policy: Value, remove: Option<&str>) -> String {
    for s in policy["Statement"].as_array_mut().unwrap() {
        s["Resource"] = "*".into();
        s.as_object_mut().unwrap().remove("Condition");
        if let Some(action) = remove {
            match &mut s["Action"] {
                Value::Array(list) => list.retain(|a| a != action),
                single => {
                    if single == action {
                        *single = Value::Array(vec![]);
                    }
                }
            }
        }
    }
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Action"].as_array().is_none_or(|a| !a.is_empty()));
    policy.to_string()
}

/// An IAM user holding only `policy`; its access key.
async fn user(aws: &stackctl::aws::Aws, name: &str, policy: String) -> (String, String) {
    aws.iam.create_user().user_name(name).send().await.unwrap();
    let arn = aws
        .iam
        .create_policy()
        .policy_name(name)
        .policy_document(policy)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    aws.iam
        .attach_user_policy()
        .user_name(name)
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    let key = aws
        .iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

struct Step<'a> {
    p: &'a Project,
    endpoint: String,
}

impl Step<'_> {
    fn run(&self, who: &(String, String), args: &[&str]) -> common::Run {
        let out = self
            .p
            .command(&self.endpoint, args)
            .env("AWS_ACCESS_KEY_ID", &who.0)
            .env("AWS_SECRET_ACCESS_KEY", &who.1)
            .output()
            .unwrap();
        common::Run::from(out)
    }
}

/// (the action taken away, the command that must then fail), in the order they run on the one
/// stack: each run gets as far as it can, so the next one still needs its action.
const MUTATIONS: &[(&str, &str)] = &[
    ("iam:CreateRole", "up"),
    ("ecs:CreateService", "up"),
    ("ssm:PutParameter", "rotate-token"),
    ("ecs:UpdateService", "rotate-token"),
    ("elasticloadbalancing:DeleteLoadBalancer", "down"),
    ("ec2:DeleteVpc", "down"),
];

#[tokio::test(flavor = "multi_thread")]
async fn up_rotate_down_with_only_the_printed_policy_and_iam_enforced() {
    if moto().is_none() {
        return;
    }
    let moto = own_moto().await;
    let mut cfg = FaultConfig::new(moto.url.parse().unwrap(), 0, 0.0);
    cfg.journal = true;
    let proxy = Proxy::start(cfg).await.unwrap();
    let p = Project::new(&proxy.url(), "");
    let admin = clients(&moto.url).await;

    // Users made while moto still lets everything through.
    let scoped = printed_policy(&p, Some(ACCOUNT));
    let full = user(&admin, "deployer", widened(printed_policy(&p, None), None)).await;
    let mut without = BTreeMap::new();
    for (action, _) in MUTATIONS {
        let name = format!("without-{}", action.replace(':', "-"));
        let keys = user(
            &admin,
            &name,
            widened(printed_policy(&p, None), Some(action)),
        )
        .await;
        without.insert(*action, keys);
    }
    let nobody = user(&admin, "nobody", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#.into()).await;
    enforce(&moto.url).await;
    let step = Step {
        p: &p,
        endpoint: proxy.url(),
    };

    // The enforcement is real: a user without the policy gets nothing.
    let refused = step.run(&nobody, &["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(
        refused.all().contains("not authorized"),
        "{}",
        refused.all()
    );

    // A clean run as the deployer: the figures.
    let started = Instant::now();
    let mut calls = 0;
    let mut ec2 = BTreeMap::new();
    for cmd in ["up", "rotate-token", "down"] {
        if cmd == "down" {
            ec2_tags(&step.endpoint, &full, &mut ec2).await;
        }
        let t = Instant::now();
        let run = step.run(&full, &cmd_args(cmd));
        assert_eq!(run.code, 0, "{cmd} with the printed policy:\n{}", run.all());
        let (r, w) = run.calls();
        calls += r + w;
        eprintln!(
            "[iam] {cmd} with the printed policy: {:.1}s, {r} reads, {w} writes",
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "[iam] up + rotate-token + down as the deployer: {calls} calls, {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // Each user missing one action is refused at the step that needs it, with the hint; the
    // deployer then finishes that step from where it stopped.
    for cmd in ["up", "rotate-token", "down"] {
        if cmd == "down" {
            ec2_tags(&step.endpoint, &full, &mut ec2).await;
        }
        for (action, _) in MUTATIONS.iter().filter(|(_, c)| *c == cmd) {
            let run = step.run(&without[action], &cmd_args(cmd));
            assert_ne!(
                run.code,
                0,
                "{cmd} without {action} succeeded:\n{}",
                run.all()
            );
            assert!(
                run.all()
                    .contains(&format!("not authorized to perform: {action}")),
                "{cmd} without {action}: {}",
                run.all()
            );
            assert!(
                run.all().contains("`stackctl policy` prints"),
                "the hint names the command that prints the policy:\n{}",
                run.all()
            );
            eprintln!("[iam] {cmd} without {action}: refused");
        }
        step.run(&full, &cmd_args(cmd)).ok();
    }

    let journal = proxy.journal();
    proxy.shutdown().await;
    check_scopes(&journal, &scoped, &p.name, &ec2);
}

fn cmd_args(cmd: &str) -> Vec<&str> {
    match cmd {
        "down" => vec!["down", "--yes"],
        "rotate-token" => vec!["rotate-token", "api"],
        other => vec![other],
    }
}

// ---- the ARN check ----

/// IAM's wildcard match: `*` any run of characters, `?` one.
fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

type Tags = BTreeMap<String, String>;

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
async fn ec2_tags(endpoint: &str, who: &(String, String), into: &mut BTreeMap<String, Tags>) {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            &who.0, &who.1, None, None, "tests",
        ))
        .load()
        .await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
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
            let name = form("RoleName").unwrap();
            let path = form("Path")
                .or_else(|| roles.get(&name).cloned())
                .unwrap_or_else(|| panic!("iam:{} on {name}, a role never created", call.action));
            vec![format!("arn:aws:iam::{ACCOUNT}:role{path}{name}")]
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
        other => panic!("no ARN rule for service {other} ({})", call.action),
    }
}

fn check_scopes(journal: &[Call], policy: &Value, stack: &str, ec2: &BTreeMap<String, Tags>) {
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
    for call in journal {
        let action = format!("{}:{}", call.service.replace("tagging", "tag"), call.action);
        let Some((_, scope, _)) = PERMISSIONS.iter().find(|(a, _, _)| *a == action) else {
            assert!(
                action == "iam:CreateServiceLinkedRole",
                "{action} is called but not in the policy"
            );
            continue;
        };
        if *scope == Scope::Any {
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

#[test]
fn the_wildcard_match_is_iams() {
    assert!(matches(
        "arn:aws:ecs:*:1:cluster/a-b",
        "arn:aws:ecs:us-east-1:1:cluster/a-b"
    ));
    assert!(matches("a/*/c", "a/x/y/c"));
    assert!(matches("*", ""));
    assert!(matches("ab?d", "abcd"));
    assert!(!matches("ab?d", "abd"));
    assert!(!matches(
        "arn:aws:ecs:*:1:cluster/a-b",
        "arn:aws:ecs:us-east-1:1:cluster/a-bc"
    ));
    assert!(!matches("role/stackctl/s/dev/*", "role/stackctl/s2/dev/x"));
}
