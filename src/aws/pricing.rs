//! The AWS Price List Query API (`pricing:GetProducts`): one region's list prices for the
//! meters stackctl's resources are billed by. The API is served from us-east-1 (and
//! ap-south-1) whatever region it prices ("Using the AWS Price List Query API", AWS Billing
//! User Guide), so its client is always made for us-east-1.

use std::collections::BTreeMap;

use aws_sdk_pricing::types::{Filter, FilterType};
use serde_json::Value;

use super::{Aws, AwsError, Ctx};
use crate::cost::{Meter, RegionPrices};

/// Where the Price List Query API is served.
pub const API_REGION: &str = "us-east-1";

/// A meter, its service code, extra filters, and the usage type that names it (without the
/// region's prefix, `USE1-` and the like, which differs per region).
type Source = (
    Meter,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const METERS: &[Source] = &[
    (
        Meter::AlbHours,
        "AWSELB",
        &[("productFamily", "Load Balancer-Application")],
        "LoadBalancerUsage",
    ),
    (
        Meter::AlbLcuHours,
        "AWSELB",
        &[("productFamily", "Load Balancer-Application")],
        "LCUUsage",
    ),
    (
        Meter::FargateVcpuHours,
        "AmazonECS",
        &[],
        "Fargate-vCPU-Hours:perCPU",
    ),
    (Meter::FargateGbHours, "AmazonECS", &[], "Fargate-GB-Hours"),
    (
        Meter::PublicIpv4Hours,
        "AmazonVPC",
        &[],
        "PublicIPv4:InUseAddress",
    ),
    (
        Meter::LogsIngestedGb,
        "AmazonCloudWatch",
        &[],
        "DataProcessing-Bytes",
    ),
    (
        Meter::LogsStoredGbMonths,
        "AmazonCloudWatch",
        &[],
        "TimedStorage-ByteHrs",
    ),
    (
        Meter::AlarmMonths,
        "AmazonCloudWatch",
        &[],
        "CW:AlarmMonitorUsage",
    ),
    (Meter::EcrGbMonths, "AmazonECR", &[], "TimedStorage-ByteHrs"),
    (
        Meter::DbStorageGbMonths,
        "AmazonRDS",
        &[("productFamily", "Database Storage")],
        "RDS:GP3-Storage",
    ),
    (
        Meter::SecretMonths,
        "AWSSecretsManager",
        &[],
        "AWSSecretsManager-Secrets",
    ),
];

/// What a refresh found: the row, and each meter or class it found no price for.
pub struct Refreshed {
    pub row: RegionPrices,
    pub missing: Vec<String>,
}

/// `region`'s prices for every meter, and for the RDS for PostgreSQL `classes` given.
pub async fn region_prices(
    aws: &Aws,
    region: &str,
    classes: &[String],
    date: &str,
) -> Result<Refreshed, AwsError> {
    let mut meters = BTreeMap::new();
    let mut missing = Vec::new();
    // Meters of one service and filters come from one read.
    let mut read: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (meter, service, filters, usage) in METERS {
        let query = format!("{service} {filters:?}");
        if !read.contains_key(&query) {
            let mut f = vec![("regionCode", region)];
            f.extend_from_slice(filters);
            read.insert(query.clone(), products(aws, service, &f).await?);
        }
        match read[&query].iter().find_map(|p| priced(p, usage)) {
            Some(price) => {
                meters.insert(*meter, price);
            }
            None => missing.push(format!("{} ({service} {usage})", meter.label())),
        }
    }
    // Route 53 prices hosted zones globally: no region code.
    let zones = products(aws, "AmazonRoute53", &[("productFamily", "DNS Zone")]).await?;
    match zones.iter().find_map(|p| priced(p, "HostedZone")) {
        Some(price) => {
            meters.insert(Meter::HostedZoneMonths, price);
        }
        None => missing.push(format!(
            "{} (AmazonRoute53 HostedZone)",
            Meter::HostedZoneMonths.label()
        )),
    }
    let mut db = BTreeMap::new();
    for class in classes {
        let f = [
            ("regionCode", region),
            ("productFamily", "Database Instance"),
            ("databaseEngine", "PostgreSQL"),
            ("deploymentOption", "Single-AZ"),
            ("instanceType", class.as_str()),
        ];
        let found = products(aws, "AmazonRDS", &f).await?;
        let usage = format!("InstanceUsage:{class}");
        match found.iter().find_map(|p| priced(p, &usage)) {
            Some(price) => {
                db.insert(class.clone(), price);
            }
            None => missing.push(format!("{class} (AmazonRDS PostgreSQL Single-AZ)")),
        }
    }
    Ok(Refreshed {
        row: RegionPrices {
            source: "AWS Price List Query API (pricing:GetProducts)".into(),
            date: date.into(),
            meters,
            db_instance_hours: db,
        },
        missing,
    })
}

/// Every product of `service` matching `filters` (TERM_MATCH), over all pages.
async fn products(
    aws: &Aws,
    service: &str,
    filters: &[(&str, &str)],
) -> Result<Vec<Value>, AwsError> {
    let filters: Vec<Filter> = filters
        .iter()
        .map(|(field, value)| {
            Filter::builder()
                .r#type(FilterType::TermMatch)
                .field(*field)
                .value(*value)
                .build()
                .expect("type, field and value are set")
        })
        .collect();
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .pricing
            .get_products()
            .service_code(service)
            .set_filters(Some(filters.clone()))
            .format_version("aws_v1")
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .ctx("read prices of", service)?;
        // Each product is a JSON document in a string.
        out.extend(
            page.price_list()
                .iter()
                .filter_map(|p| serde_json::from_str::<Value>(p).ok()),
        );
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The on-demand price of `product` if its usage type is `usage` in some region (`USE1-…`)
/// or without a prefix (us-east-1's older usage types).
fn priced(product: &Value, usage: &str) -> Option<f64> {
    let ut = product["product"]["attributes"]["usagetype"].as_str()?;
    let matches = ut == usage
        || ut.rsplit_once(usage).is_some_and(|(pre, rest)| {
            rest.is_empty() && pre.ends_with('-') && !pre[..pre.len() - 1].contains('-')
        });
    if matches { on_demand(product) } else { None }
}

/// The first tier's USD price of the product's on-demand term (tiered meters, as CloudWatch
/// Logs' vended logs, start at range 0).
fn on_demand(product: &Value) -> Option<f64> {
    let terms = product["terms"]["OnDemand"].as_object()?;
    terms
        .values()
        .filter_map(|t| t["priceDimensions"].as_object())
        .flat_map(|d| d.values())
        .filter(|d| d["beginRange"].as_str().is_none_or(|b| b == "0"))
        .find_map(|d| d["pricePerUnit"]["USD"].as_str()?.parse::<f64>().ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn product(usage: &str, dims: Value) -> Value {
        json!({
            "product": { "productFamily": "Compute", "attributes": { "usagetype": usage, "regionCode": "eu-west-3" }, "sku": "ABC" },
            "serviceCode": "AmazonECS",
            "terms": { "OnDemand": { "ABC.JRTCKXETXF": { "priceDimensions": dims, "sku": "ABC", "offerTermCode": "JRTCKXETXF" } } }
        })
    }

    #[test]
    fn a_usage_type_matches_with_or_without_the_regions_prefix_and_nothing_longer() {
        let dims = json!({ "ABC.JRTCKXETXF.6YS6EN2CT7": { "unit": "hours", "beginRange": "0", "endRange": "Inf", "pricePerUnit": { "USD": "0.0465600000" } } });
        let p = product("EUW3-Fargate-vCPU-Hours:perCPU", dims.clone());
        assert_eq!(priced(&p, "Fargate-vCPU-Hours:perCPU"), Some(0.04656));
        assert_eq!(
            priced(
                &product("Fargate-vCPU-Hours:perCPU", dims.clone()),
                "Fargate-vCPU-Hours:perCPU"
            ),
            Some(0.04656)
        );
        // ARM and Spot are other meters.
        assert_eq!(
            priced(
                &product("EUW3-Fargate-ARM-vCPU-Hours:perCPU", dims.clone()),
                "Fargate-vCPU-Hours:perCPU"
            ),
            None
        );
        assert_eq!(
            priced(
                &product("EUW3-SpotUsage:Fargate-vCPU-Hours:perCPU", dims),
                "Fargate-vCPU-Hours:perCPU"
            ),
            None
        );
    }

    #[test]
    fn a_tiered_price_is_its_first_tier() {
        let dims = json!({
            "A": { "beginRange": "10240", "endRange": "30720", "pricePerUnit": { "USD": "0.25" } },
            "B": { "beginRange": "0", "endRange": "10240", "pricePerUnit": { "USD": "0.50" } },
        });
        assert_eq!(
            priced(
                &product("DataProcessing-Bytes", dims),
                "DataProcessing-Bytes"
            ),
            Some(0.5)
        );
    }
}
