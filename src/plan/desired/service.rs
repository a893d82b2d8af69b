//! Desired state of one service: its security group, repository, logs, task role, tokens,
//! task definition, ECS service and autoscaling.

use super::*;

impl Builder<'_> {
    /// One service: its group, repository, logs, role, tokens, task definition and service.
    pub(super) fn service(&mut self, name: &str, svc: &Service) {
        let (stack, facts, n) = (self.stack, self.facts, self.n.clone());
        let port = svc.port as i32;
        let mut ingress = if svc.public {
            vec![tcp(port, Peer::Group(alb_sg()))]
        } else {
            vec![]
        };
        // Only the services that declare they call this one reach its port.
        let callers = callers(stack, name);
        ingress.extend(
            callers
                .iter()
                .map(|c| tcp(port, Peer::Group(service_sg(c)))),
        );
        let spec = aws::security_group::Spec {
            vpc: vpc(),
            description: self.describe(&format!("service {name}")),
            ingress,
        };
        self.push(
            service_sg(name),
            n.service_security_group(name),
            Spec::SecurityGroup(spec),
        );
        if matches!(svc.source, Source::Build(_)) {
            let spec = aws::ecr::Spec {
                scan_on_push: true,
                lifecycle_policy: lifecycle_policy(),
            };
            self.push(repository(name), n.repository(name), Spec::Repository(spec));
        }
        let spec = aws::logs::Spec {
            retention_days: LOG_RETENTION_DAYS,
        };
        self.push(log_group(name), n.log_group(name), Spec::LogGroup(spec));
        let spec = aws::iam::Spec {
            path: role_path(stack),
            trust_policy: trust_policy(facts),
            managed: vec![],
            inline: vec![],
            boundary: None,
            after: vec![],
        };
        self.push(task_role(name), n.task_role(name), Spec::Role(spec));
        if svc.token {
            self.tokens(name);
        }
        let registry = (!callers.is_empty()).then(|| discovery(name));
        if let Some(key) = &registry {
            let spec = aws::discovery::Spec {
                namespace: namespace(),
                ttl: aws::discovery::TTL,
            };
            self.push(key.clone(), name.to_string(), Spec::Discovery(spec));
        }
        let spec = aws::task_definition::Spec {
            def: task_def(stack, facts, svc),
        };
        self.push(
            task_definition(name),
            n.task_family(name),
            Spec::TaskDefinition(spec),
        );
        let (group, alternate) = self.groups(svc);
        let shifting = svc.public && svc.deploy.shifts_traffic();
        let spec = ServiceSpec {
            cluster: cluster(),
            task_definition: task_definition(name),
            desired: svc.desired as i32,
            scaled: svc.scaling.is_some(),
            subnets: self.subnets(),
            security_group: service_sg(name),
            target_group: svc.public.then(|| (group, entry::attached_by(stack, svc))),
            registry,
            container: name.to_string(),
            port,
            grace_seconds: GRACE_SECONDS,
            deploy: if shifting {
                svc.deploy
            } else {
                Deploy::Rolling
            },
            alternate: alternate.filter(|_| svc.public),
            infrastructure_role: shifting.then(|| {
                let arn = crate::plan::task_def::role_arn(stack, facts, &n.infrastructure_role());
                (infrastructure_role(), arn)
            }),
        };
        self.push(service(name), n.ecs_service(name), Spec::Service(spec));
        if let Some(scaling) = &svc.scaling {
            self.scaling(name, scaling);
        }
    }

    /// The private DNS namespace, when a service calls another.
    pub(super) fn namespace(&mut self) {
        if self.stack.services.values().any(|s| !s.calls.is_empty()) {
            let spec = aws::namespace::Spec { vpc: vpc() };
            self.push(namespace(), self.n.namespace(), Spec::Namespace(spec));
        }
    }

    /// A service's scalable target and target-tracking policies.
    fn scaling(&mut self, name: &str, s: &crate::config::Scaling) {
        use aws::scaling::{Metric, PolicySpec};
        let n = &self.n;
        let mut policies = Vec::new();
        if let Some(cpu) = s.cpu {
            policies.push(PolicySpec {
                name: n.scaling_policy(name, "cpu"),
                metric: Metric::Cpu,
                target: cpu as i32,
            });
        }
        if let Some(requests) = s.requests {
            policies.push(PolicySpec {
                name: n.scaling_policy(name, "requests"),
                metric: Metric::Requests {
                    load_balancer: load_balancer(),
                    target_group: target_group(name),
                },
                target: requests as i32,
            });
        }
        let spec = aws::scaling::Spec {
            service: service(name),
            role: scaling_service_linked_role(),
            resource_id: n.scalable_target(name),
            min: s.min as i32,
            max: s.max as i32,
            policies,
        };
        let target = n.scalable_target(name);
        self.push(scaling(name), target, Spec::Scaling(spec));
    }

    /// The token's parameters: the current generation, and those still accepted.
    fn tokens(&mut self, name: &str) {
        let generations = self.facts.tokens.get(name).copied().unwrap_or(Generations {
            current: 1,
            ..Default::default()
        });
        let description = format!(
            "API token of {}/{}/{name} (managed by stackctl)",
            self.stack.name, self.stack.env
        );
        let kept = [
            Some(generations.current),
            generations.previous,
            generations.retired,
        ];
        for g in kept.into_iter().flatten() {
            let spec = aws::ssm::Spec {
                description: description.clone(),
            };
            let parameter = self.n.token_parameter(name, g);
            self.push(generations.key(name, g), parameter, Spec::Parameter(spec));
        }
    }
}

/// The services that call `name`.
pub fn callers<'a>(stack: &'a Stack, name: &str) -> Vec<&'a str> {
    stack
        .services
        .values()
        .filter(|s| s.calls.iter().any(|c| c == name))
        .map(|s| s.name.as_str())
        .collect()
}
