//! Desired × observed → the exact fixes for one resource. Pure.

use std::collections::HashMap;

use super::resource::{Desired, Key, Observed, Peer, Rule, Spec, State};

pub use super::fix::Fix;

/// Ids of the stack's resources as observed (`Key` → AWS id).
pub type Ids = HashMap<Key, String>;

/// `Ok(fixes)` when the resource can be brought in line in place; `Err(reason)` when it
/// cannot (an immutable property differs).
pub fn diff(want: &Desired, have: &Observed, ids: &Ids) -> Result<Vec<Fix>, String> {
    let mut fixes = Vec::new();
    let id_of = |k: &Key| ids.get(k).cloned();
    let mismatch = || {
        Err(format!(
            "{} is observed as a {}",
            want.key,
            have.state.kind().label()
        ))
    };
    match &want.spec {
        Spec::Vpc { cidr } => {
            let State::Vpc {
                cidr: c,
                dns_hostnames,
                dns_support,
            } = &have.state
            else {
                return mismatch();
            };
            if cidr != c {
                return Err(format!(
                    "CIDR is {c}, stack.yaml says {cidr}; a VPC's CIDR cannot change: run `stackctl down` first"
                ));
            }
            if !dns_support {
                fixes.push(Fix::EnableDnsSupport);
            }
            if !dns_hostnames {
                fixes.push(Fix::EnableDnsHostnames);
            }
        }
        Spec::Subnet { cidr, az, vpc } => {
            let State::Subnet {
                cidr: c,
                az: a,
                vpc_id,
                public_ip_on_launch,
            } = &have.state
            else {
                return mismatch();
            };
            if cidr != c || (!az.is_empty() && az != a) || id_of(vpc).is_some_and(|v| &v != vpc_id)
            {
                return Err(format!(
                    "subnet is {c} in {a}, stack.yaml wants {cidr} in {az}; subnets cannot move: run `stackctl down` first"
                ));
            }
            if !public_ip_on_launch {
                fixes.push(Fix::MapPublicIp);
            }
        }
        Spec::InternetGateway { vpc } => {
            let State::InternetGateway { attached_vpc } = &have.state else {
                return mismatch();
            };
            if attached_vpc.as_ref() != id_of(vpc).as_ref() || attached_vpc.is_none() {
                fixes.push(Fix::AttachGateway);
            }
        }
        Spec::RouteTable {
            gateway, subnets, ..
        } => {
            let State::RouteTable {
                routes,
                associations,
                ..
            } = &have.state
            else {
                return mismatch();
            };
            let gw = id_of(gateway);
            match routes.iter().find(|(d, _)| d == "0.0.0.0/0") {
                None => fixes.push(Fix::AddRoute {
                    destination: "0.0.0.0/0".into(),
                }),
                Some((_, target)) if gw.as_ref() != Some(target) => fixes.push(Fix::ReplaceRoute {
                    destination: "0.0.0.0/0".into(),
                }),
                _ => {}
            }
            let wanted: Vec<Option<String>> = subnets.iter().map(id_of).collect();
            for (subnet, id) in subnets.iter().zip(&wanted) {
                if id
                    .as_ref()
                    .is_none_or(|id| !associations.iter().any(|(_, s)| s == id))
                {
                    fixes.push(Fix::Associate {
                        subnet: subnet.clone(),
                    });
                }
            }
            for (assoc, subnet_id) in associations {
                if !wanted.iter().flatten().any(|w| w == subnet_id) {
                    fixes.push(Fix::Disassociate {
                        association: assoc.clone(),
                        subnet_id: subnet_id.clone(),
                    });
                }
            }
        }
        Spec::SecurityGroup { ingress, .. } => {
            let State::SecurityGroup {
                ingress: have_rules,
                ..
            } = &have.state
            else {
                return mismatch();
            };
            let resolve = |r: &Rule| match &r.peer {
                Peer::Group(k) => id_of(k).map(|id| Rule {
                    peer: Peer::GroupId(id),
                    ..r.clone()
                }),
                _ => Some(r.clone()),
            };
            for rule in ingress {
                if resolve(rule).is_none_or(|r| !have_rules.contains(&r)) {
                    fixes.push(Fix::Authorize { rule: rule.clone() });
                }
            }
            let want_resolved: Vec<Rule> = ingress.iter().filter_map(resolve).collect();
            for rule in have_rules {
                if !want_resolved.contains(rule) {
                    fixes.push(Fix::Revoke { rule: rule.clone() });
                }
            }
        }
        Spec::Repository {
            scan_on_push,
            lifecycle_policy,
        } => {
            let State::Repository {
                scan_on_push: s,
                lifecycle_policy: l,
            } = &have.state
            else {
                return mismatch();
            };
            if scan_on_push != s {
                fixes.push(Fix::ScanOnPush);
            }
            if !same_json(Some(lifecycle_policy), l.as_ref()) {
                fixes.push(Fix::PutLifecyclePolicy {
                    policy: lifecycle_policy.clone(),
                });
            }
        }
        Spec::LogGroup { retention_days } => {
            let State::LogGroup { retention_days: r } = &have.state else {
                return mismatch();
            };
            if Some(*retention_days) != *r {
                fixes.push(Fix::SetRetention {
                    days: *retention_days,
                });
            }
        }
        Spec::Role {
            path,
            trust_policy,
            managed,
            inline,
        } => {
            let State::Role {
                path: p,
                trust_policy: t,
                managed: m,
                inline: i,
            } = &have.state
            else {
                return mismatch();
            };
            if path != p {
                return Err(format!(
                    "role path is {p}, expected {path}; IAM paths cannot change: delete the role"
                ));
            }
            if !same_json(Some(trust_policy), Some(t)) {
                fixes.push(Fix::UpdateTrustPolicy {
                    document: trust_policy.clone(),
                });
            }
            fixes.extend(
                managed
                    .iter()
                    .filter(|a| !m.contains(a))
                    .map(|arn| Fix::AttachPolicy { arn: arn.clone() }),
            );
            fixes.extend(
                m.iter()
                    .filter(|a| !managed.contains(a))
                    .map(|arn| Fix::DetachPolicy { arn: arn.clone() }),
            );
            for (name, doc) in inline {
                if !i
                    .iter()
                    .any(|(n, d)| n == name && same_json(Some(doc), Some(d)))
                {
                    fixes.push(Fix::PutInlinePolicy {
                        name: name.clone(),
                        document: doc.clone(),
                    });
                }
            }
            for (name, _) in i {
                if !inline.iter().any(|(n, _)| n == name) {
                    fixes.push(Fix::DeleteInlinePolicy { name: name.clone() });
                }
            }
        }
        Spec::Parameter { .. } => {
            let State::Parameter { .. } = &have.state else {
                return mismatch();
            };
        }
        Spec::Cluster { capacity_providers } => {
            let State::Cluster {
                capacity_providers: c,
                ..
            } = &have.state
            else {
                return mismatch();
            };
            let mut want = capacity_providers.clone();
            let mut have = c.clone();
            want.sort();
            have.sort();
            if want != have {
                fixes.push(Fix::CapacityProviders);
            }
        }
        Spec::LoadBalancer {
            subnets,
            security_group,
            ..
        } => {
            let State::LoadBalancer {
                subnet_ids,
                security_groups,
                ..
            } = &have.state
            else {
                return mismatch();
            };
            let mut want: Vec<Option<String>> = subnets.iter().map(id_of).collect();
            want.sort();
            if want.iter().any(Option::is_none)
                || want.into_iter().flatten().collect::<Vec<_>>() != *subnet_ids
            {
                fixes.push(Fix::SetSubnets {
                    subnets: subnets.clone(),
                });
            }
            if id_of(security_group).is_none_or(|g| security_groups != &[g]) {
                fixes.push(Fix::SetSecurityGroup {
                    group: security_group.clone(),
                });
            }
        }
        Spec::TargetGroup {
            vpc,
            port,
            health,
            deregistration_delay,
        } => {
            let State::TargetGroup {
                vpc_id,
                port: p,
                target_type,
                health: h,
                deregistration_delay: d,
            } = &have.state
            else {
                return mismatch();
            };
            if port != p || target_type != "ip" || id_of(vpc).is_some_and(|v| &v != vpc_id) {
                return Err(format!(
                    "target group is {target_type}:{p} in {vpc_id}; wanted ip:{port}: run `stackctl down` first"
                ));
            }
            if health != h {
                fixes.push(Fix::SetHealthCheck {
                    health: health.clone(),
                });
            }
            if Some(*deregistration_delay) != *d {
                fixes.push(Fix::SetDeregistrationDelay {
                    seconds: *deregistration_delay,
                });
            }
        }
        Spec::Listener { target_group, .. } => {
            let State::Listener {
                target_group: t, ..
            } = &have.state
            else {
                return mismatch();
            };
            if id_of(target_group).is_none_or(|g| Some(&g) != t.as_ref()) {
                fixes.push(Fix::SetListenerTarget {
                    target_group: target_group.clone(),
                });
            }
        }
        Spec::TaskDefinition { def } => {
            let State::TaskDefinition { def: d, .. } = &have.state else {
                return mismatch();
            };
            let changed = super::deploy::task_def_changes(def, d);
            if !changed.is_empty() {
                fixes.push(Fix::RegisterRevision { changed });
            }
        }
        Spec::Service(want) => {
            let State::Service(have) = &have.state else {
                return mismatch();
            };
            let changed = super::deploy::service_changes(want, have, ids);
            if !changed.is_empty() {
                fixes.push(Fix::UpdateService { changed });
            }
        }
    }
    Ok(fixes)
}

/// JSON documents compare by meaning (IAM and ECR reformat what they store).
fn same_json(a: Option<&String>, b: Option<&String>) -> bool {
    let parse =
        |s: Option<&String>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
