//! Desired state of the public entry point: the load balancer, a target group per public
//! service, and either HTTP on :80 forwarding to the public service, or (with a domain) HTTPS
//! on :443 with the domain's certificate, :80 redirecting to it, and the domain's alias record.

use super::*;

impl Builder<'_> {
    pub(super) fn entry(&mut self) {
        let public: Vec<_> = self.stack.services.values().filter(|s| s.public).collect();
        if let Some(front) = public.first() {
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
            let forward = aws::listener::Forwarding::Forward {
                target_group: target_group(&front.name),
            };
            match &self.stack.domain {
                None => self.listener(aws::listener::HTTP_PORT, forward, None, None),
                Some(d) => self.https(d, forward),
            }
        }
        for svc in public {
            let spec = Spec::TargetGroup(aws::target_group::Spec {
                vpc: vpc(),
                port: svc.port as i32,
                health: health_check(&svc.health),
                deregistration_delay: DEREGISTRATION_DELAY,
            });
            self.push(
                target_group(&svc.name),
                self.n.target_group(&svc.name),
                spec,
            );
        }
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

    /// The certificate, HTTPS serving the public service, :80 redirecting to the domain, and
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
