//! Availability zones as an account sees them, not as moto lists them: every zone says whether
//! it needs an opt-in (moto leaves `optInStatus` out), and in us-east-1 the account has opted
//! into a Local Zone, which DescribeAvailabilityZones lists with the region's zones (EC2 API
//! reference, DescribeAvailabilityZones; Local Zones user guide). Its name sorts before the
//! region's own zones, so a client that takes the first names it sees puts a subnet there,
//! where Fargate runs no task (ECS developer guide, "Amazon ECS in Local Zones": EC2 capacity
//! only). AWS accepts that subnet and every task in it then fails to start; this double
//! refuses the subnet at once, naming why.

use crate::classify::Call;
use crate::wire::AwsError;

/// The Local Zone of us-east-1 the account has opted into: (name, id, parent zone).
pub const LOCAL_ZONE: (&str, &str, &str) = ("us-east-1-bos-1a", "use1-bos1-az1", "us-east-1a");

/// DescribeAvailabilityZones as AWS answers it, if it differs.
pub fn rewrite(call: &Call, body: &[u8]) -> Option<Vec<u8>> {
    if !call.is("ec2", "DescribeAvailabilityZones") {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut out = text.replace(
        "<zoneType>availability-zone</zoneType>",
        "<zoneType>availability-zone</zoneType><optInStatus>opt-in-not-required</optInStatus>",
    );
    if call.region == "us-east-1" && !out.contains(LOCAL_ZONE.0) {
        let (name, id, parent) = LOCAL_ZONE;
        let item = format!(
            "<item><messageSet/><regionName>us-east-1</regionName><zoneName>{name}</zoneName><zoneId>{id}</zoneId><zoneType>local-zone</zoneType><optInStatus>opted-in</optInStatus><groupName>us-east-1-bos-1</groupName><networkBorderGroup>us-east-1-bos-1</networkBorderGroup><parentZoneName>{parent}</parentZoneName><parentZoneId>use1-az6</parentZoneId><zoneState>available</zoneState></item>"
        );
        let at = out.find("</availabilityZoneInfo>")?;
        out.insert_str(at, &item);
    }
    (out != text).then(|| out.into_bytes())
}

/// CreateSubnet in the Local Zone: refused here, where AWS would fail every task later.
pub fn check(call: &Call) -> Option<AwsError> {
    if !call.is("ec2", "CreateSubnet") {
        return None;
    }
    let zone = call.param("AvailabilityZone")?;
    (zone == LOCAL_ZONE.0).then(|| {
        AwsError::client(
            400,
            "InvalidParameterValue",
            format!(
                "Value ({zone}) for parameter availabilityZone is a Local Zone: AWS accepts the subnet, but Fargate runs no task there (faultproxy refuses it now)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;

    fn call(body: &str) -> Call {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        classify(&headers, "/", body.as_bytes())
    }

    #[test]
    fn the_account_sees_its_local_zone_and_every_zones_opt_in_status() {
        let moto = "<DescribeAvailabilityZonesResponse><availabilityZoneInfo><item><regionName>us-east-1</regionName><zoneName>us-east-1a</zoneName><zoneId>use1-az6</zoneId><zoneType>availability-zone</zoneType><zoneState>available</zoneState></item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>";
        let c = call("Action=DescribeAvailabilityZones&Version=2016-11-15");
        let out = String::from_utf8(rewrite(&c, moto.as_bytes()).unwrap()).unwrap();
        assert!(out.contains("<optInStatus>opt-in-not-required</optInStatus>"));
        let local = out.find("us-east-1-bos-1a").unwrap();
        assert!(out[local..].contains("<zoneType>local-zone</zoneType>"));
        let c = call(
            "Action=CreateSubnet&VpcId=vpc-1&CidrBlock=10.0.0.0%2F24&AvailabilityZone=us-east-1-bos-1a",
        );
        assert_eq!(check(&c).unwrap().code, "InvalidParameterValue");
        let c = call(
            "Action=CreateSubnet&VpcId=vpc-1&CidrBlock=10.0.0.0%2F24&AvailabilityZone=us-east-1a",
        );
        assert!(check(&c).is_none());
    }
}
