//! The planner with `domain:`: certificate, HTTPS listener, :80 redirect and alias record, in
//! an order AWS accepts both ways, a domain change in place of the old one, and a
//! certificate ACM gave up on blocked with what to do.

use std::path::Path;

use super::test_support::{converged, facts};
use super::*;
use crate::aws::{self, listener::Forwarding};
use crate::config;

fn stack_with(domain: &str) -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("stack.yaml")).unwrap();
    let base = base.split("\nenvironments:").next().unwrap();
    let text = format!("{base}\ndomain: {domain}\n");
    config::parse(Path::new("stack.yaml"), &text, root, None).expect("stack with a domain")
}

fn domain_facts() -> Facts {
    Facts {
        zone: Some(aws::route53::Zone {
            id: "Z0EXAMPLE".into(),
            name: "example.com".into(),
        }),
        load_balancer_dns: Some("demo-default-1.us-east-1.elb.amazonaws.com".into()),
        live: Default::default(),
        ..facts()
    }
}

fn spec<'a>(want: &'a [Desired], k: &Key) -> &'a Spec {
    &want.iter().find(|d| &d.key == k).unwrap().spec
}

#[test]
fn a_domain_adds_its_certificate_https_a_redirect_and_its_record_in_order() {
    let want = desired::desired(&stack_with("api.example.com"), &domain_facts());
    let cert = desired::certificate("api.example.com");
    let record = desired::dns_record("api.example.com");
    let Spec::Listener(https) = spec(&want, &desired::https_listener()) else {
        unreachable!()
    };
    assert_eq!(https.port, 443);
    assert_eq!(https.certificate.as_ref(), Some(&cert));
    assert!(matches!(https.action, Forwarding::Forward { .. }));
    let Spec::Listener(http) = spec(&want, &desired::listener()) else {
        unreachable!()
    };
    assert_eq!(
        http.action,
        Forwarding::Redirect {
            host: "api.example.com".into()
        }
    );
    let Spec::Service(svc) = spec(&want, &desired::service("api")) else {
        unreachable!()
    };
    assert_eq!(
        svc.target_group.as_ref().map(|(_, l)| l),
        Some(&desired::https_listener()),
        "the service is behind the listener that forwards"
    );
    let settings = want
        .iter()
        .find(|d| d.key == desired::https_listener())
        .unwrap()
        .spec
        .settings(&desired::https_listener());
    assert_eq!(
        settings["ssl_policy"],
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    );

    let fresh = plan(&want, &[]);
    let deps = order(&fresh, &want);
    let pos = |k: &Key| fresh.changes.iter().position(|c| &c.key == k).unwrap();
    let waits = |a: &Key, b: &Key| deps[pos(a)].contains(&pos(b));
    assert!(waits(&desired::https_listener(), &cert));
    assert!(
        waits(&desired::listener(), &desired::https_listener()),
        ":80 redirects once :443 serves"
    );
    assert!(waits(&record, &desired::https_listener()));
    assert!(waits(&record, &desired::load_balancer()));
    // The certificate in the first phase (it is waited for between them), the rest after.
    let (first, second) = split_deploys(&fresh);
    assert!(first.changes.iter().any(|c| c.key == cert));
    for k in [&desired::https_listener(), &desired::listener(), &record] {
        assert!(second.changes.iter().any(|c| &c.key == k), "{k}");
    }
    assert!(plan(&want, &converged(&want)).is_empty());
}

#[test]
fn down_deletes_the_record_and_listeners_before_the_certificate_and_load_balancer() {
    let want = desired::desired(&stack_with("api.example.com"), &domain_facts());
    let have = converged(&want);
    let p = plan(&[], &have);
    let deps = order(&p, &[]);
    let pos = |k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    let waits = |a: &Key, b: &Key| deps[pos(a)].contains(&pos(b));
    let cert = desired::certificate("api.example.com");
    let record = desired::dns_record("api.example.com");
    assert!(
        waits(&cert, &desired::https_listener()),
        "ACM refuses while in use"
    );
    assert!(
        waits(&cert, &record),
        "the record is found through the certificate"
    );
    assert!(waits(&desired::load_balancer(), &record));
}

#[test]
fn another_domain_replaces_the_old_one_after_https_moved_to_the_new_certificate() {
    let old = desired::desired(&stack_with("api.example.com"), &domain_facts());
    let have = converged(&old);
    let want = desired::desired(&stack_with("www.example.com"), &domain_facts());
    let p = plan(&want, &have);
    let text = render_text(&p);
    for line in [
        "+ certificate www.example.com",
        "+ DNS record www.example.com",
        "- certificate api.example.com",
        "- DNS record api.example.com",
        "redirect to https://www.example.com",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    let deps = order(&p, &want);
    let pos = |k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    assert!(
        deps[pos(&desired::certificate("api.example.com"))]
            .contains(&pos(&desired::https_listener())),
        "the old certificate goes once HTTPS serves the new one"
    );
}

#[test]
fn a_certificate_acm_gave_up_on_is_blocked_and_a_missing_validation_record_written() {
    let want = desired::desired(&stack_with("api.example.com"), &domain_facts());
    let mut have = converged(&want);
    let cert = desired::certificate("api.example.com");
    let set = |have: &mut Vec<Observed>, status: &str, written: Option<bool>| {
        for o in have.iter_mut() {
            if let State::Certificate(c) = &mut o.state {
                c.status = status.into();
                c.record_written = written;
                c.failure = Some("CAA_ERROR".into());
            }
        }
    };
    set(&mut have, "PENDING_VALIDATION", Some(false));
    let p = plan(&want, &have);
    let c = p.changes.iter().find(|c| c.key == cert).unwrap();
    assert_eq!(
        render_text(&plan(&want, &have))
            .matches("write its DNS validation record")
            .count(),
        1
    );
    assert!(matches!(c.action, Action::Update { .. }));
    set(&mut have, "FAILED", None);
    let p = plan(&want, &have);
    let blocked: Vec<_> = p.blocked().collect();
    assert_eq!(blocked.len(), 1);
    let Action::Blocked { reason } = &blocked[0].action else {
        unreachable!()
    };
    assert!(
        reason.contains("CAA_ERROR") && reason.contains("delete-certificate"),
        "{reason}"
    );
}

#[test]
fn an_alias_record_is_ours_only_when_it_points_at_our_load_balancer() {
    let n = crate::names::Names::new("demo", "default");
    assert!(n.owns_alias("demo-default-123.us-east-1.elb.amazonaws.com", "us-east-1"));
    assert!(n.owns_alias(
        "dualstack.demo-default-123.us-east-1.elb.amazonaws.com.",
        "us-east-1"
    ));
    assert!(!n.owns_alias("demo-default2-1.us-east-1.elb.amazonaws.com", "us-east-1"));
    assert!(!n.owns_alias("demo-default-1.eu-west-1.elb.amazonaws.com", "us-east-1"));
    assert!(!n.owns_alias("cdn.example.net.", "us-east-1"));
    assert!(
        !n.owns_alias("demo-default-x-1.us-east-1.elb.amazonaws.com", "us-east-1"),
        "environment `default-x`'s"
    );
}
