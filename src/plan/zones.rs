//! Which availability zones the stack's subnets go in: pure, from what EC2 reports.

/// An availability zone as DescribeAvailabilityZones reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    /// The zone ID, the same physical zone in every account (`use1-az1`).
    pub id: String,
    /// `state` is `available`.
    pub available: bool,
    /// An availability zone proper (not a Local or Wavelength Zone) that needs no opt-in.
    pub standard: bool,
}

/// Regions where Fargate runs in some zones only: region → the zone IDs it runs in (ECS
/// developer guide, "Supported Regions for Amazon ECS on AWS Fargate", Linux containers).
const FARGATE_ZONES: &[(&str, &[&str])] = &[
    ("us-west-1", &["usw1-az1", "usw1-az3"]),
    ("ap-northeast-1", &["apne1-az1", "apne1-az2", "apne1-az4"]),
    ("cn-north-1", &["cnn1-az1", "cnn1-az2"]),
];

/// Whether tasks can run in `zone` of `region`, and if not, why.
pub fn unusable(region: &str, zone: &Zone) -> Option<&'static str> {
    if !zone.available {
        return Some("it is not available");
    }
    if !zone.standard {
        return Some("it is a Local or Wavelength Zone, or needs an opt-in");
    }
    let fargate = FARGATE_ZONES.iter().find(|(r, _)| *r == region);
    if fargate.is_some_and(|(_, ids)| !ids.contains(&zone.id.as_str())) {
        return Some("Fargate does not run there");
    }
    None
}

/// The zones new subnets may go in, by name.
pub fn usable(region: &str, zones: &[Zone]) -> Vec<String> {
    let mut names: Vec<String> = zones
        .iter()
        .filter(|z| unusable(region, z).is_none())
        .map(|z| z.name.clone())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, id: &str) -> Zone {
        Zone {
            name: name.into(),
            id: id.into(),
            available: true,
            standard: true,
        }
    }

    #[test]
    fn only_zones_fargate_runs_in_that_are_available_and_need_no_opt_in() {
        let zones = [
            zone("us-west-1c", "usw1-az3"),
            zone("us-west-1b", "usw1-az2"),
            zone("us-west-1a", "usw1-az1"),
        ];
        assert_eq!(usable("us-west-1", &zones), ["us-west-1a", "us-west-1c"]);
        let mut down = zone("us-east-1a", "use1-az6");
        down.available = false;
        let mut local = zone("us-east-1-bos-1a", "use1-bos1-az1");
        local.standard = false;
        let zones = [down, local, zone("us-east-1b", "use1-az1")];
        assert_eq!(usable("us-east-1", &zones), ["us-east-1b"]);
        assert_eq!(
            unusable("us-west-1", &zone("us-west-1b", "usw1-az2")),
            Some("Fargate does not run there")
        );
    }
}
