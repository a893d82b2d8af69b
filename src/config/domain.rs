//! Checks on `domain:`: a name ACM can certify and Route 53 can serve (ACM API Reference,
//! RequestCertificate: a Common Name of at most 64 characters; one name, no wildcard, since the
//! load balancer answers for exactly this one), inside the zone when one is given.

use marked_yaml::Span;

use super::error::Issues;
use super::file::{DomainFile, StackFile};
use super::model::Domain;

/// Minutes `up` waits for the certificate by default: DNS validation in Route 53 takes a few
/// minutes once the zone is delegated (ACM User Guide, "DNS validation").
pub const WAIT_MINUTES: u32 = 30;
pub const WAIT_RANGE: std::ops::RangeInclusive<u32> = 1..=240;
/// The longest Common Name a certificate can have (RFC 5280, as ACM enforces it).
pub const MAX_LEN: usize = 64;

pub(super) fn domain(
    d: &marked_yaml::Spanned<DomainFile>,
    f: &StackFile,
    issues: &mut Issues,
) -> Option<Domain> {
    let before = issues.list.len();
    let (name, span, zone, wait) = match &**d {
        DomainFile::Name(n) => (n.clone(), *d.span(), None, None),
        DomainFile::Full(m) => (
            m.name.to_string(),
            *m.name.span(),
            m.zone.as_ref(),
            m.wait_minutes.as_ref(),
        ),
    };
    let name = normalized(&name);
    check_name(&name, &span, "domain", issues);
    let zone = zone.map(|z| {
        let zone_name = normalized(z);
        if check_name(&zone_name, z.span(), "zone", issues)
            && name != zone_name
            && !name.ends_with(&format!(".{zone_name}"))
        {
            issues.at(
                z.span(),
                format!("`{name}` is not in the zone `{zone_name}`"),
                Some(format!(
                    "use the zone the name belongs to (a suffix of `{name}`), or leave `zone` out to find it"
                )),
            );
        }
        zone_name
    });
    let wait_minutes = match wait {
        None => WAIT_MINUTES,
        Some(w) => {
            if !WAIT_RANGE.contains(&**w) {
                issues.at(
                    w.span(),
                    format!(
                        "wait_minutes is {}; it must be {} to {}",
                        **w,
                        WAIT_RANGE.start(),
                        WAIT_RANGE.end()
                    ),
                    None,
                );
            }
            **w
        }
    };
    if !f.services.values().any(|s| s.is_public()) {
        issues.at(
            &span,
            "`domain` names the public entry point, but no service is public",
            Some("make the service clients call `public: true` (or give it a route), or remove `domain`".into()),
        );
    }
    if issues.list.len() > before {
        return None;
    }
    Some(Domain {
        name,
        zone,
        wait_minutes,
    })
}

/// DNS names compare in lowercase, without the root's trailing dot.
fn normalized(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `name` is a name ACM certifies; an issue at `span` when not.
fn check_name(name: &str, span: &Span, what: &str, issues: &mut Issues) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let problem = if name.starts_with("*.") || name.contains('*') {
        Some((
            format!("`{name}` is a wildcard"),
            "give the one name clients use, e.g. `api.example.com`: the load balancer's certificate is for that name".to_string(),
        ))
    } else if name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.parse::<std::net::Ipv6Addr>().is_ok()
    {
        Some((
            format!("`{name}` is an IP address, not a domain name"),
            "HTTPS certificates are for names: use a domain you own, e.g. `api.example.com`"
                .to_string(),
        ))
    } else if labels.len() < 2 {
        Some((
            format!("`{name}` is not a full domain name"),
            "write the whole name, e.g. `api.example.com`".to_string(),
        ))
    } else if what == "domain" && name.len() > MAX_LEN {
        Some((
            format!(
                "`{name}` is {} characters; a certificate's name can have at most {MAX_LEN}",
                name.len()
            ),
            "use a shorter name".to_string(),
        ))
    } else if labels.iter().any(|l| !is_label(l))
        || labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        Some((
            format!("`{name}` is not a valid domain name"),
            "labels are letters, digits and `-` (not first or last), separated by dots".to_string(),
        ))
    } else {
        None
    };
    match problem {
        Some((message, hint)) => {
            let message = if what == "zone" {
                format!("zone: {message}")
            } else {
                message
            };
            issues.at(span, message, Some(hint));
            false
        }
        None => true,
    }
}

fn is_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}
