//! Checks on `network:`: the VPC range, and the zones its subnets go in.

use ipnet::Ipv4Net;
use marked_yaml::Spanned;

use super::error::Issues;
use super::file::StackFile;
use super::model::Network;
use super::validate::is_region;

const DEFAULT_CIDR: &str = "10.42.0.0/16";
/// The smallest subnet an Application Load Balancer accepts.
const MIN_SUBNET_PREFIX: u8 = 27;

pub(super) fn network(f: &StackFile, issues: &mut Issues) -> Option<Network> {
    let cidr = match &f.network.cidr {
        None => DEFAULT_CIDR.parse().expect("default CIDR"),
        Some(c) => match c.parse::<Ipv4Net>() {
            Ok(net) if net.network() != net.addr() => {
                let hint = format!("the network address is `{}`", net.trunc());
                issues.at(c.span(), format!("`{}` has host bits set", **c), Some(hint));
                return None;
            }
            Ok(net) if !(16..=24).contains(&net.prefix_len()) => {
                issues.at(
                    c.span(),
                    format!("VPC CIDR `{}` must be between /16 and /24", **c),
                    Some("e.g. `10.42.0.0/16`".into()),
                );
                return None;
            }
            // Each subnet is a sixteenth of the VPC (Network::subnet_cidrs). A load balancer
            // needs subnets of at least /27 with 8 free addresses (ALB user guide, "Subnets
            // for your load balancer"); AWS keeps 5 addresses of every subnet.
            Ok(net) if Network::subnet_prefix(net) > MIN_SUBNET_PREFIX => {
                issues.at(
                    c.span(),
                    format!(
                        "VPC CIDR `{}` gives /{} subnets; the load balancer needs at least /{MIN_SUBNET_PREFIX} subnets",
                        **c,
                        Network::subnet_prefix(net)
                    ),
                    Some(format!(
                        "use a /{} or larger range, e.g. `10.42.0.0/16`",
                        MIN_SUBNET_PREFIX - 4
                    )),
                );
                return None;
            }
            Ok(net) if !is_private(&net) => {
                issues.at(
                    c.span(),
                    format!("`{}` is not a private (RFC 1918) range", **c),
                    Some(
                        "use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, e.g. `10.42.0.0/16`"
                            .into(),
                    ),
                );
                return None;
            }
            Ok(net) => net,
            Err(_) => {
                issues.at(
                    c.span(),
                    format!("`{}` is not an IPv4 CIDR", **c),
                    Some("write it as address/prefix, e.g. `10.42.0.0/16`".into()),
                );
                return None;
            }
        },
    };
    let zones: Vec<&Spanned<String>> = f.network.zones.iter().flatten().collect();
    for (i, z) in zones.iter().enumerate() {
        if !is_zone_name(z) {
            issues.at(
                z.span(),
                format!("`{}` is not an availability zone name", ***z),
                Some("zone names are the region and a letter, e.g. `us-east-1a`".into()),
            );
            return None;
        }
        if zones[..i].iter().any(|o| ***o == ***z) {
            issues.at(
                z.span(),
                format!("zone `{}` is listed twice", ***z),
                Some("each subnet needs its own zone".into()),
            );
            return None;
        }
    }
    let azs = match (&f.network.azs, zones.len()) {
        (None, 0) => 2,
        (None, n) => n as u8,
        (Some(n), z) if z > 0 && usize::from(**n) != z => {
            issues.at(
                n.span(),
                format!("azs is {} but {z} zones are listed", **n),
                Some("drop `azs:` (it follows `zones:`) or list that many zones".into()),
            );
            return None;
        }
        (Some(n), _) => **n,
    };
    if !(2..=6).contains(&azs) {
        let (span, what) = match &f.network.azs {
            Some(n) => (n.span(), format!("azs is {azs}")),
            None => (zones[0].span(), format!("{azs} zone listed")),
        };
        issues.at(
            span,
            format!("{what}; it must be 2 to 6"),
            Some("the load balancer needs subnets in at least 2 availability zones".into()),
        );
        return None;
    }
    if let Some(region) = &f.region
        && let Some(z) = zones.iter().find(|z| !z.starts_with(region.as_str()))
    {
        issues.at(
            z.span(),
            format!("zone `{}` is not in region `{}`", ***z, **region),
            Some(format!("list zones of {}, e.g. `{}a`", **region, **region)),
        );
        return None;
    }
    Some(Network {
        cidr,
        azs,
        zones: zones.iter().map(|z| z.to_string()).collect(),
    })
}

/// `us-east-1a`: a region code and a letter.
fn is_zone_name(s: &str) -> bool {
    let Some((region, letter)) = s.split_at_checked(s.len().saturating_sub(1)) else {
        return false;
    };
    letter.bytes().all(|b| b.is_ascii_lowercase()) && is_region(region)
}

fn is_private(net: &Ipv4Net) -> bool {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .any(|r| r.parse::<Ipv4Net>().is_ok_and(|r| r.contains(net)))
}
