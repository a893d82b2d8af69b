//! Desired state of the public entry point: the load balancer, a target group per public
//! service, and either HTTP on :80 or (with a domain) HTTPS on :443 with the domain's
//! certificate, :80 redirecting to it, and the domain's alias record. The forwarding
//! listener's default action goes to the `public: true` service (or answers 404), and one
//! rule per routed service goes before it.

use super::*;
use crate::config::Route;

/// Rules are numbered in steps, in [`rule_order`].
pub const PRIORITY_STEP: i32 = 10;

impl Builder<'_> {
    pub(super) fn entry(&mut self) {
        let public: Vec<_> = self.stack.services.values().filter(|s| s.public).collect();
        if public.is_empty() {
            return;
        }
        let spec = aws::load_balancer::Spec {
            subnets: self.subnets(),
            security_group: alb_sg(),
            gateway: igw(),
        };
        self.push(
            load_balancer(),
            self.n.load_balancer(),
            Spec::LoadBalancer(spec),
        );
        let forward = match public.iter().find(|s| s.route.is_none()) {
            Some(front) => {
                let (target_group, alternate) = self.groups(front);
                aws::listener::Forwarding::Forward {
                    target_group,
                    alternate,
                }
            }
            None => aws::listener::Forwarding::NotFound,
        };
        match &self.stack.domain {
            None => self.listener(aws::listener::HTTP_PORT, forward, None, None),
            Some(d) => self.https(d, forward),
        }
        self.routes();
        for svc in public {
            let spec = aws::target_group::Spec {
                vpc: vpc(),
                port: svc.port as i32,
                health: health_check(&svc.health),
                deregistration_delay: DEREGISTRATION_DELAY,
            };
            if self.groups(svc).1.is_some() {
                let name = self.n.alternate_target_group(&svc.name);
                let key = alternate_target_group(&svc.name);
                self.push(key, name, Spec::TargetGroup(spec.clone()));
            }
            let name = self.n.target_group(&svc.name);
            self.push(target_group(&svc.name), name, Spec::TargetGroup(spec));
        }
    }

    /// The rules of the routed services on the forwarding listener, most specific first.
    fn routes(&mut self) {
        let listener = forwarding_listener(self.stack);
        let rules: Vec<_> = rule_order(self.stack)
            .into_iter()
            .enumerate()
            .map(|(i, (name, route))| {
                let (target_group, alternate) = self.groups(&self.stack.services[name]);
                aws::routes::RuleSpec {
                    service: name.to_string(),
                    priority: PRIORITY_STEP * (i as i32 + 1),
                    paths: route.paths.clone(),
                    host: route.host.clone(),
                    target_group,
                    alternate,
                }
            })
            .collect();
        if rules.is_empty() {
            return;
        }
        let which = listener.0.split_once('/').map(|(_, w)| w).unwrap_or("http");
        let key = routes(which);
        let name = format!("{}:{}:rules", self.n.load_balancer(), which);
        self.push(
            key,
            name,
            Spec::Routes(aws::routes::Spec { listener, rules }),
        );
    }

    fn listener(
        &mut self,
        port: i32,
        action: aws::listener::Forwarding,
        certificate: Option<Key>,
        after: Option<Key>,
    ) {
        let key = if port == aws::listener::HTTPS_PORT {
            https_listener()
        } else {
            listener()
        };
        let spec = aws::listener::Spec {
            load_balancer: load_balancer(),
            port,
            action,
            certificate,
            after,
        };
        let name = format!("{}:{port}", self.n.load_balancer());
        self.push(key, name, Spec::Listener(spec));
    }

    /// The certificate, HTTPS serving the public services, :80 redirecting to the domain, and
    /// the domain pointing at the load balancer once HTTPS serves.
    fn https(&mut self, d: &crate::config::Domain, forward: aws::listener::Forwarding) {
        let zone = self.facts.zone.as_ref().map(|z| z.id.clone());
        let zone = zone.unwrap_or_default();
        let spec = aws::certificate::Spec {
            domain: d.name.clone(),
            zone: zone.clone(),
        };
        self.push(
            certificate(&d.name),
            d.name.clone(),
            Spec::Certificate(spec),
        );
        self.listener(
            aws::listener::HTTPS_PORT,
            forward,
            Some(certificate(&d.name)),
            None,
        );
        let redirect = aws::listener::Forwarding::Redirect {
            host: d.name.clone(),
        };
        self.listener(
            aws::listener::HTTP_PORT,
            redirect,
            None,
            Some(https_listener()),
        );
        let spec = aws::dns_record::Spec {
            zone,
            domain: d.name.clone(),
            load_balancer: load_balancer(),
            listener: https_listener(),
            target: self.facts.load_balancer_dns.clone(),
        };
        self.push(dns_record(&d.name), d.name.clone(), Spec::DnsRecord(spec));
    }
}

/// The routed services in the order their rules are evaluated: host and paths together
/// first, then host alone (a host's requests stay on it), then paths alone; the longer
/// literal path before the shorter (`/api/v2/*` before `/api/*`), a route counting by its
/// broadest pattern; then by name. The order
/// depends on stack.yaml alone, so the same file always numbers the rules the same.
pub fn rule_order(stack: &Stack) -> Vec<(&str, &Route)> {
    let mut routed: Vec<(&str, &Route)> = stack
        .services
        .values()
        .filter(|s| s.public)
        .filter_map(|s| s.route.as_ref().map(|r| (s.name.as_str(), r)))
        .collect();
    let class = |r: &Route| match (r.host.is_some(), r.paths.is_empty()) {
        (true, false) => 0,
        (true, true) => 1,
        _ => 2,
    };
    // A route is as specific as its broadest pattern: the shortest literal prefix.
    let literal = |r: &Route| {
        r.paths
            .iter()
            .map(|p| p.find(['*', '?']).unwrap_or(p.len()))
            .min()
            .unwrap_or(0)
    };
    routed.sort_by(|(a, ra), (b, rb)| {
        (class(ra), std::cmp::Reverse(literal(ra)), a).cmp(&(
            class(rb),
            std::cmp::Reverse(literal(rb)),
            b,
        ))
    });
    routed
}

/// What must exist before ECS accepts service `svc`'s target group: the rule routing to it,
/// or the listener whose default action does.
pub fn attached_by(stack: &Stack, svc: &Service) -> Key {
    let listener = forwarding_listener(stack);
    match &svc.route {
        Some(_) => routes_on(&listener),
        None => listener,
    }
}
