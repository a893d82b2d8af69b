//! `stackctl cost`: what the stack stack.yaml declares costs a month, line by line, with what
//! it assumes. No AWS call, but `--refresh` first reads the region's prices from the AWS
//! Price List API into the user's cache.

use std::process::ExitCode;

use serde_json::json;

use super::{Failure, connect, load, partition, prices_cache, region};
use crate::aws::pricing;
use crate::cli::{Cli, CostArgs, Output};
use crate::config::Stack;
use crate::cost::prices::{self, PriceError};
use crate::cost::{Prices, estimate};
use crate::engine::explain::placeholder_facts;
use crate::plan::{self, desired::desired};

pub async fn run(cli: &Cli, args: &CostArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let region = if args.refresh {
        refresh(cli, &stack).await?
    } else {
        region(cli, &stack).await?.1
    };
    let prices = Prices::load(prices_cache().as_deref())?;
    // The account never changes a price: the documentation's example account stands in.
    let facts = placeholder_facts(&stack, &region, partition(&region), "123456789012");
    let want = desired(&stack, &facts);
    let a = args.assumptions();
    let e = estimate::estimate(&region, &prices, plan::cost::after(&want, &[], a), &a);
    if e.source.is_none() {
        return Err(Failure::Other {
            message: estimate::missing_region(&e, &prices),
            hint: Some("or pass --region with one the table has, to see the cost there".into()),
        });
    }
    match args.output {
        Output::Text => print!("{}", estimate::render_full(&e, &prices)),
        Output::Json => {
            let empty = estimate::estimate(&region, &prices, Vec::new(), &a);
            let out = json!({
                "stack": stack.name,
                "env": stack.env,
                "estimate": e,
                "by_kind": estimate::compare(&empty, &e)
                    .into_iter()
                    .map(|k| json!({ "kind": k.kind, "monthly": k.after }))
                    .collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("serializes")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Read the stack's region's prices from the Price List API into the cache; the region.
async fn refresh(cli: &Cli, stack: &Stack) -> Result<String, Failure> {
    let aws = connect(cli, stack).await?;
    let region = aws.region.clone();
    let cache = prices_cache().ok_or_else(|| Failure::Other {
        message: "no cache directory to keep the prices in".into(),
        hint: Some("set HOME or XDG_CACHE_HOME".into()),
    })?;
    // The cache, read once: what this refresh adds to, and with the built-in table, the
    // prices it may keep.
    let mut table = prices::read(&cache)?.unwrap_or_default();
    let mut known = Prices::built_in();
    known.merge(table.clone());
    let before = known.region(&region).cloned();
    // The classes the table prices already, and the stack's own.
    let mut classes: Vec<String> = before
        .as_ref()
        .map(|r| r.db_instance_hours.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(d) = &stack.database
        && !classes.contains(&d.size)
    {
        classes.push(d.size.clone());
    }
    let today = crate::clock::today();
    eprintln!("Reading {region}'s prices from the AWS Price List API…");
    let mut found = pricing::region_prices(&aws, &region, &classes, &today).await?;
    if !found.missing.is_empty() {
        // What the API lacks keeps the table's price, and the row says from when.
        let kept = before.as_ref().map_or(String::new(), |b| {
            for (m, p) in &b.meters {
                found.row.meters.entry(*m).or_insert(*p);
            }
            for (c, p) in &b.db_instance_hours {
                found.row.db_instance_hours.entry(c.clone()).or_insert(*p);
            }
            found.row.source = format!(
                "{}; {} kept from the table of {} ({})",
                found.row.source,
                found.missing.join(", "),
                b.date,
                b.source
            );
            format!("; kept from the table of {}", b.date)
        });
        eprintln!(
            "warning: the Price List API has no price for {}{kept}",
            found.missing.join(", ")
        );
    }
    table.regions.insert(region.clone(), found.row);
    prices::write(&cache, &table).map_err(|e| Failure::Other {
        message: format!("{}: {e}", cache.display()),
        hint: Some("check that the directory is writable".into()),
    })?;
    eprintln!(
        "Prices for {region} as of {today} kept in {} ({}).",
        cache.display(),
        aws.calls.summary()
    );
    Ok(region)
}

impl From<PriceError> for Failure {
    fn from(e: PriceError) -> Failure {
        Failure::Other {
            hint: Some(e.hint()),
            message: e.to_string(),
        }
    }
}
