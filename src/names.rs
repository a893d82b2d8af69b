//! Every AWS name and tag stackctl makes, in one place. Names are deterministic, so `up`
//! and `down` find what the stack owns from any machine, with no local state file.

pub const TAG_STACK: &str = "stackctl:stack";
pub const TAG_ENV: &str = "stackctl:env";
pub const TAG_RESOURCE: &str = "stackctl:resource";
pub const TAG_MANAGED_BY: &str = "managed-by";
/// On a certificate: the hosted zone its validation record and the domain's record are in.
pub const TAG_ZONE: &str = "stackctl:zone";
pub const MANAGED_BY: &str = "stackctl";
pub const DEFAULT_ENV: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub stack: String,
    pub env: String,
}

/// A derived name and the AWS limit it must respect, for validation before any call.
pub struct Limit {
    pub what: &'static str,
    pub name: String,
    pub max: usize,
}

impl Names {
    pub fn new(stack: &str, env: &str) -> Self {
        Names {
            stack: stack.to_string(),
            env: env.to_string(),
        }
    }

    fn prefix(&self) -> String {
        format!("{}-{}", self.stack, self.env)
    }

    pub fn vpc(&self) -> String {
        self.prefix()
    }
    /// The private DNS namespace (Cloud Map) the services others call are registered in.
    /// `.internal` is reserved for private use (ICANN, 2024): it never clashes with a
    /// public name.
    pub fn namespace(&self) -> String {
        format!("{}.internal", self.prefix())
    }
    /// The name service `service` answers to inside the VPC.
    pub fn private_host(&self, service: &str) -> String {
        format!("{service}.{}", self.namespace())
    }
    pub fn subnet(&self, index: usize) -> String {
        format!("{}-public-{}", self.prefix(), index + 1)
    }
    pub fn internet_gateway(&self) -> String {
        self.prefix()
    }
    pub fn route_table(&self) -> String {
        format!("{}-public", self.prefix())
    }
    pub fn alb_security_group(&self) -> String {
        format!("{}-alb", self.prefix())
    }
    pub fn service_security_group(&self, service: &str) -> String {
        format!("{}-svc-{service}", self.prefix())
    }
    pub fn repository(&self, service: &str) -> String {
        format!("{}/{service}", self.prefix())
    }
    pub fn log_group(&self, service: &str) -> String {
        format!("/stackctl/{}/{}/{service}", self.stack, self.env)
    }
    pub fn execution_role(&self) -> String {
        format!("{}-exec", self.prefix())
    }
    pub fn task_role(&self, service: &str) -> String {
        format!("{}-{service}-task", self.prefix())
    }
    /// IAM path of the roles and policies CI uses: outside [`Names::execution_role`]'s path,
    /// so the permissions `up` needs on the stack's roles never reach the deploy role itself.
    pub fn ci_path(&self) -> String {
        format!("/stackctl-ci/{}/{}/", self.stack, self.env)
    }
    /// The role CI assumes: `deploy` (the deploy branch or environment) or `plan` (pull
    /// requests).
    pub fn ci_role(&self, role: &str) -> String {
        format!("{}-ci-{role}", self.prefix())
    }
    /// The permissions boundary of the stack's own roles when CI deploys: the most any of them
    /// may ever be allowed, whatever policy the deploy role puts on them.
    pub fn ci_boundary(&self) -> String {
        format!("{}-ci-boundary", self.prefix())
    }
    /// Which of the stack's CI roles (`deploy`, `plan`) a caller's ARN is a session of.
    pub fn ci_session(&self, caller: &str) -> Option<&'static str> {
        ["deploy", "plan"]
            .into_iter()
            .find(|r| caller.contains(&format!(":assumed-role/{}/", self.ci_role(r))))
    }
    /// The tag a shared OIDC provider carries for each stack whose CI roles trust it, so a
    /// `down` stopped between deleting those roles and the provider still knows it was used.
    pub fn uses_tag(&self) -> String {
        format!("stackctl:uses/{}/{}", self.stack, self.env)
    }
    /// Managed policy `part` (from 1) of a CI role's permissions.
    pub fn ci_policy(&self, role: &str, part: usize) -> String {
        format!("{}-{part}", self.ci_role(role))
    }
    /// Inline policy on the execution role: read this stack's own parameters only.
    pub fn parameters_policy(&self) -> &'static str {
        "read-own-parameters"
    }
    pub fn parameter_prefix(&self) -> String {
        format!("/stackctl/{}/{}/", self.stack, self.env)
    }
    /// One parameter per token generation: a task definition revision names exactly the
    /// generations it accepts, so rolling back to it cannot bring back a deleted token.
    pub fn token_parameter(&self, service: &str, generation: u32) -> String {
        format!("{}{service}/token/{generation}", self.parameter_prefix())
    }
    /// `(service, generation)` of a token parameter name of this stack.
    pub fn parse_token_parameter(&self, name: &str) -> Option<(String, u32)> {
        let rest = name.strip_prefix(&self.parameter_prefix())?;
        let (service, generation) = rest.split_once("/token/")?;
        Some((service.to_string(), generation.parse().ok()?))
    }
    pub fn lock_parameter(&self) -> String {
        format!("{}lock", self.parameter_prefix())
    }
    pub fn cluster(&self) -> String {
        self.prefix()
    }
    pub fn load_balancer(&self) -> String {
        self.prefix()
    }
    /// The stack's rules on listener `listener` (`http`, `https`).
    pub fn listener_rules(&self, listener: &str) -> String {
        format!("{}:{listener}:rules", self.load_balancer())
    }
    pub fn target_group(&self, service: &str) -> String {
        format!("{}-{service}", self.prefix())
    }
    /// The second target group of a service that deploys blue/green, canary or linear: ECS
    /// puts each new version in the one production is not on.
    pub fn alternate_target_group(&self, service: &str) -> String {
        format!("{}-alt", self.target_group(service))
    }
    /// The role ECS changes the load balancer's rules with during such a deployment.
    pub fn infrastructure_role(&self) -> String {
        format!("{}-ecs-infra", self.prefix())
    }
    pub fn task_family(&self, service: &str) -> String {
        format!("{}-{service}", self.prefix())
    }
    pub fn ecs_service(&self, service: &str) -> String {
        format!("{}-{service}", self.prefix())
    }
    /// Application Auto Scaling's id of a service's task count.
    pub fn scalable_target(&self, service: &str) -> String {
        format!("service/{}/{}", self.cluster(), self.ecs_service(service))
    }
    /// A service's target-tracking policy on `metric` (`cpu`, `requests`).
    pub fn scaling_policy(&self, service: &str, metric: &str) -> String {
        format!("{}-{service}-{metric}", self.prefix())
    }
    /// Whether an alias record's target is this stack's load balancer: ALB DNS names are
    /// `<name>-<id>.<region>.elb.amazonaws.com` (Route 53 may add `dualstack.` and the root's
    /// dot). The record is the stack's when it points there.
    pub fn owns_alias(&self, target: &str, region: &str) -> bool {
        let t = target.trim_end_matches('.').to_ascii_lowercase();
        let t = t.strip_prefix("dualstack.").unwrap_or(&t);
        let Some(rest) = t.strip_prefix(&format!("{}-", self.load_balancer())) else {
            return false;
        };
        // `<id>.<region>.elb.amazonaws.com`: the id is digits, so `demo-default-x-1…` (the
        // load balancer of environment `default-x`) is not `demo-default`'s.
        rest.strip_suffix(&format!(".{region}.elb.amazonaws.com"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    }
    /// The database's subnets: private, no route to the internet.
    pub fn private_subnet(&self, index: usize) -> String {
        format!("{}-private-{}", self.prefix(), index + 1)
    }
    pub fn private_route_table(&self) -> String {
        format!("{}-private", self.prefix())
    }
    pub fn db_security_group(&self) -> String {
        format!("{}-db", self.prefix())
    }
    /// RDS keeps subnet group and instance identifiers in lowercase.
    pub fn db_subnet_group(&self) -> String {
        self.prefix()
    }
    pub fn db_instance(&self) -> String {
        self.prefix()
    }
    /// The snapshot `down` takes before deleting the database; `stamp` is UTC `YYYYMMDD-HHMMSS`.
    pub fn final_snapshot(&self, stamp: &str) -> String {
        format!("{}-final-{stamp}", self.prefix())
    }
    /// Inline policy on the execution role: read the database's RDS-managed secret only.
    pub fn database_secret_policy(&self) -> &'static str {
        "read-database-secret"
    }
    /// The ARN RDS gives the instance (known before it exists: the policy names it).
    pub fn db_instance_arn(&self, partition: &str, region: &str, account: &str) -> String {
        format!(
            "arn:{partition}:rds:{region}:{account}:db:{}",
            self.db_instance()
        )
    }

    /// Names of the database's resources with hard AWS length limits.
    pub fn database_limits(&self) -> Vec<Limit> {
        vec![
            Limit {
                what: "RDS instance identifier",
                name: self.db_instance(),
                max: 63,
            },
            // The longest snapshot name `down` makes (a 15-character stamp).
            Limit {
                what: "DB snapshot name",
                name: self.final_snapshot("YYYYMMDD-HHMMSS"),
                max: 255,
            },
        ]
    }

    /// The CI roles' names, when stack.yaml has `ci:` (IAM: role names up to 64 characters,
    /// policy names up to 128).
    pub fn ci_limits(&self) -> Vec<Limit> {
        ["deploy", "plan"]
            .iter()
            .map(|r| Limit {
                what: "IAM role name",
                name: self.ci_role(r),
                max: 64,
            })
            .collect()
    }

    /// Whether a resource's tags (key, value) say it is this stack's and environment's.
    pub fn owns<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> bool {
        let get = |key: &str| {
            tags.clone()
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
        };
        get(TAG_STACK) == Some(self.stack.as_str()) && get(TAG_ENV) == Some(self.env.as_str())
    }

    /// The tags every owned resource carries. `resource` is the logical id (e.g. `subnet/1`).
    pub fn tags(&self, resource: &str, name: &str) -> Vec<(String, String)> {
        vec![
            ("Name".into(), name.into()),
            (TAG_STACK.into(), self.stack.clone()),
            (TAG_ENV.into(), self.env.clone()),
            (TAG_RESOURCE.into(), resource.into()),
            (TAG_MANAGED_BY.into(), MANAGED_BY.into()),
        ]
    }

    /// Derived names with hard AWS length limits, checked when stack.yaml is loaded.
    pub fn limits(&self, services: &[&str]) -> Vec<Limit> {
        let mut out = vec![
            Limit {
                what: "load balancer name",
                name: self.load_balancer(),
                max: 32,
            },
            Limit {
                what: "IAM role name",
                name: self.execution_role(),
                max: 64,
            },
        ];
        for s in services {
            out.push(Limit {
                what: "target group name",
                name: self.target_group(s),
                max: 32,
            });
            out.push(Limit {
                what: "IAM role name",
                name: self.task_role(s),
                max: 64,
            });
            out.push(Limit {
                what: "security group name",
                name: self.service_security_group(s),
                max: 255,
            });
        }
        out
    }

    /// The names a service deploying blue/green, canary or linear adds.
    pub fn shifting_limits(&self, services: &[&str]) -> Vec<Limit> {
        let mut out = vec![Limit {
            what: "IAM role name",
            name: self.infrastructure_role(),
            max: 64,
        }];
        out.extend(services.iter().map(|s| Limit {
            what: "target group name",
            name: self.alternate_target_group(s),
            max: 32,
        }));
        out
    }

    /// Derived names that would begin with a prefix AWS refuses: `sg-` for security groups
    /// (EC2 CreateSecurityGroup), `internal-` for load balancers (ELB CreateLoadBalancer, the
    /// prefix of internal load balancers' DNS names). `(what, name, prefix)`.
    pub fn refused_prefixes(&self, services: &[&str]) -> Vec<(&'static str, String, &'static str)> {
        let mut named = vec![
            ("security group name", self.alb_security_group(), "sg-"),
            ("load balancer name", self.load_balancer(), "internal-"),
        ];
        for s in services {
            named.push(("security group name", self.service_security_group(s), "sg-"));
        }
        named
            .into_iter()
            .filter(|(_, name, prefix)| name.starts_with(prefix))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_include_stack_and_env() {
        let n = Names::new("demo", "prod");
        assert_eq!(n.vpc(), "demo-prod");
        assert_eq!(n.subnet(0), "demo-prod-public-1");
        assert_eq!(n.repository("api"), "demo-prod/api");
        assert_eq!(
            n.token_parameter("api", 3),
            "/stackctl/demo/prod/api/token/3"
        );
        assert_eq!(
            n.parse_token_parameter(&n.token_parameter("api", 12)),
            Some(("api".into(), 12))
        );
        assert_eq!(n.parse_token_parameter("/stackctl/demo/prod/lock"), None);
        assert_eq!(
            n.parse_token_parameter("/stackctl/demo/prod/api/token/x"),
            None
        );
        assert_eq!(n.target_group("api"), "demo-prod-api");
        let tags = n.tags("subnet/1", "x");
        assert!(tags.contains(&(TAG_STACK.to_string(), "demo".to_string())));
        assert!(tags.contains(&(TAG_MANAGED_BY.to_string(), "stackctl".to_string())));
    }

    #[test]
    fn prefixes_aws_refuses_are_caught() {
        let refused = |stack: &str| {
            Names::new(stack, "default")
                .refused_prefixes(&["api"])
                .into_iter()
                .map(|(what, name, _)| format!("{what} {name}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            refused("sg"),
            [
                "security group name sg-default-alb",
                "security group name sg-default-svc-api"
            ]
        );
        assert_eq!(refused("internal"), ["load balancer name internal-default"]);
        assert!(refused("demo").is_empty());
        assert!(refused("sgx").is_empty());
    }

    #[test]
    fn limits_catch_long_names() {
        let n = Names::new("a-very-long-stack-name", "staging");
        let over: Vec<_> = n
            .limits(&["payments"])
            .into_iter()
            .filter(|l| l.name.len() > l.max)
            .collect();
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].what, "target group name");
    }
}
