//! Pricing what the resources use: one line per resource and meter, the total, what the
//! table has no price for, and the difference between two estimates per resource kind.

use serde::Serialize;

use super::{Assumptions, Meter, Prices, Usage};

/// One resource's use of one meter, priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The resource kind's label (`load balancer`).
    pub kind: &'static str,
    /// The resource's key (`alb/main`).
    pub resource: String,
    #[serde(flatten)]
    pub usage: Usage,
    pub unit: &'static str,
    /// Per unit; `None` when the table has no price for it.
    pub price: Option<f64>,
    pub monthly: Option<f64>,
}

/// A month of the stack, priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub region: String,
    /// Where and when the region's prices were read; `None`: the table lacks the region.
    pub source: Option<String>,
    pub date: Option<String>,
    pub currency: &'static str,
    pub lines: Vec<Line>,
    /// The sum of the priced lines, to the cent.
    pub total: f64,
    pub assumptions: Vec<String>,
}

impl Estimate {
    /// Each meter the table has no price for (`RDS instance hours of db.m7g.large`).
    pub fn unpriced(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .filter(|l| l.price.is_none())
            .map(|l| match &l.usage.class {
                Some(c) => format!("{} of {c}", l.usage.meter.label()),
                None => l.usage.meter.label().to_string(),
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The sum of the lines of one resource kind.
    pub fn of_kind(&self, kind: &str) -> f64 {
        self.lines
            .iter()
            .filter(|l| l.kind == kind)
            .filter_map(|l| l.monthly)
            .sum()
    }
}

/// Price `usage` (each with its kind's label and its resource's key) in `region`.
pub fn estimate(
    region: &str,
    prices: &Prices,
    usage: Vec<(&'static str, String, Usage)>,
    assumptions: &Assumptions,
) -> Estimate {
    let row = prices.region(region);
    let lines: Vec<Line> = usage
        .into_iter()
        .map(|(kind, resource, usage)| {
            let price = row.and_then(|r| r.price(usage.meter, usage.class.as_deref()));
            Line {
                kind,
                resource,
                unit: usage.meter.unit(),
                monthly: price.map(|p| round4(p * usage.quantity)),
                price,
                usage,
            }
        })
        .collect();
    Estimate {
        region: region.into(),
        source: row.map(|r| r.source.clone()),
        date: row.map(|r| r.date.clone()),
        currency: "USD",
        total: round_cents(lines.iter().filter_map(|l| l.monthly).sum()),
        lines,
        assumptions: assumptions.describe(),
    }
}

fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Lines keep fractions of a cent, so that their sum is the total a person gets by hand.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// One resource kind's monthly cost now and after the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindCost {
    pub kind: &'static str,
    pub now: f64,
    pub after: f64,
}

/// Per resource kind, in the order they first appear, the cost now and after.
pub fn compare(now: &Estimate, after: &Estimate) -> Vec<KindCost> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for l in after.lines.iter().chain(&now.lines) {
        if !kinds.contains(&l.kind) {
            kinds.push(l.kind);
        }
    }
    kinds
        .into_iter()
        .map(|kind| KindCost {
            kind,
            now: round_cents(now.of_kind(kind)),
            after: round_cents(after.of_kind(kind)),
        })
        .collect()
}

/// `$1,234.50`, `-$3.20`.
pub fn dollars(x: f64) -> String {
    let cents = (x.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", cents % 100)
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", dollars(x))
    } else {
        dollars(x)
    }
}

/// Why a region has no estimate, and what to do.
pub fn missing_region(e: &Estimate, prices: &Prices) -> String {
    format!(
        "no prices for {} in stackctl's table (it has {}): run `stackctl cost --refresh` with credentials to read them from the AWS Price List API",
        e.region,
        prices.regions().join(", ")
    )
}

/// The few lines `plan` and `up` show: the total after the change, the difference, and
/// each kind whose cost changes.
pub fn render_change(now: &Estimate, after: &Estimate, prices: &Prices) -> String {
    if after.source.is_none() {
        return format!("Cost: {}.\n", missing_region(after, prices));
    }
    let mut out = format!(
        "Cost: about {} a month after this change ({} now, {}), at {} list prices of {}.\n",
        dollars(after.total),
        dollars(now.total),
        signed(after.total - now.total),
        after.region,
        after.date.as_deref().unwrap_or("?"),
    );
    for k in compare(now, after) {
        if (k.after - k.now).abs() >= 0.005 {
            out.push_str(&format!(
                "  {:<22} {:>10} → {:>10}  ({})\n",
                k.kind,
                dollars(k.now),
                dollars(k.after),
                signed(k.after - k.now)
            ));
        }
    }
    out.push_str(&unpriced_line(after, "not counted, no price in the table"));
    out.push_str("  `stackctl cost` shows every line and what it assumes.\n");
    out
}

/// The same for scripts: totals now and after, per kind, and what has no price; without
/// prices for the region, no figure but the reason.
pub fn render_change_json(now: &Estimate, after: &Estimate, prices: &Prices) -> serde_json::Value {
    if after.source.is_none() {
        return serde_json::json!({
            "region": after.region,
            "now": null,
            "after": null,
            "error": missing_region(after, prices),
        });
    }
    serde_json::json!({
        "region": after.region,
        "currency": after.currency,
        "prices_date": after.date,
        "now": now.total,
        "after": after.total,
        "difference": round_cents(after.total - now.total),
        "by_kind": compare(now, after),
        "unpriced": after.unpriced(),
        "assumptions": after.assumptions,
    })
}

/// The whole estimate: each line with its quantity and price, the totals per kind, the
/// assumptions and the source.
pub fn render_full(e: &Estimate, prices: &Prices) -> String {
    if e.source.is_none() {
        return format!("{}.\n", missing_region(e, prices));
    }
    let mut out = format!("Monthly estimate in {} ({}):\n", e.region, e.currency);
    let mut kind = "";
    for l in &e.lines {
        if l.kind != kind {
            kind = l.kind;
            out.push_str(&format!("  {kind:<76} {:>9}\n", dollars(e.of_kind(kind))));
        }
        let (price, cost) = match (l.price, l.monthly) {
            (Some(p), Some(m)) => (
                format!("${}/{}", fmt_price(p), short(l.usage.meter)),
                dollars(m),
            ),
            _ => ("no price".into(), "?".into()),
        };
        out.push_str(&format!(
            "    {:<15} {:<40} {price:>17} {cost:>9}\n",
            l.resource, l.usage.what
        ));
    }
    out.push_str(&format!(
        "  {:<76} {:>9}\n",
        "Total a month",
        dollars(e.total)
    ));
    out.push_str(&unpriced_line(e, "plus what the table has no price for"));
    out.push_str("Assumed:\n");
    for a in &e.assumptions {
        out.push_str(&format!("  - {a}\n"));
    }
    out.push_str(&format!(
        "Free, not listed: VPC, subnets, routes, security groups, the ECS cluster and services, IAM, SSM standard parameters, ACM certificates.\nPrices: {}, read {}.\n",
        e.source.as_deref().unwrap_or("?"),
        e.date.as_deref().unwrap_or("?")
    ));
    out
}

/// `what`, then each use the table has no price for, and what to do; empty when none.
fn unpriced_line(e: &Estimate, what: &str) -> String {
    let unpriced = e.unpriced();
    match unpriced.is_empty() {
        true => String::new(),
        false => format!(
            "  {what}: {} (run `stackctl cost --refresh`)\n",
            unpriced.join(", ")
        ),
    }
}

/// A unit price as the pricing pages write it (`0.04048`, `0.5`).
fn fmt_price(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    match s.split_once('.') {
        Some((_, frac)) if frac.len() < 2 => format!("{s}{}", "0".repeat(2 - frac.len())),
        _ => s.to_string(),
    }
}

/// The unit of a price, short (`vCPU-h`).
fn short(m: Meter) -> &'static str {
    match m {
        Meter::AlbHours | Meter::DbInstanceHours => "h",
        Meter::AlbLcuHours => "LCU-h",
        Meter::FargateVcpuHours => "vCPU-h",
        Meter::FargateGbHours => "GB-h",
        Meter::PublicIpv4Hours => "IPv4-h",
        Meter::LogsIngestedGb => "GB",
        Meter::LogsStoredGbMonths | Meter::EcrGbMonths | Meter::DbStorageGbMonths => "GB-mo",
        Meter::SecretMonths | Meter::HostedZoneMonths | Meter::AlarmMonths => "mo",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_read_as_a_person_writes_them() {
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(16.425), "$16.43");
        assert_eq!(dollars(1234.5), "$1,234.50");
        assert_eq!(dollars(-3.2), "-$3.20");
        assert_eq!(dollars(-0.001), "$0.00");
        assert_eq!(signed(2.0), "+$2.00");
        assert_eq!(fmt_price(0.1), "0.10");
        assert_eq!(fmt_price(0.04048), "0.04048");
        assert_eq!(fmt_price(0.0225), "0.0225");
    }

    #[test]
    fn a_region_missing_from_the_table_is_said_not_guessed() {
        let p = Prices::built_in();
        let u = vec![(
            "load balancer",
            "alb/main".to_string(),
            Usage::new(Meter::AlbHours, 730.0, "1 × 730 h"),
        )];
        let e = estimate("ap-east-2", &p, u, &Assumptions::default());
        assert_eq!(e.total, 0.0);
        assert!(e.source.is_none());
        let text = render_change(&e, &e, &p);
        assert!(text.contains("no prices for ap-east-2"), "{text}");
        assert!(text.contains("--refresh"), "{text}");
        assert!(!text.contains('$'), "{text}");
    }
}
