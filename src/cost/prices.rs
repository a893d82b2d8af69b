//! The price table: per region, a price per [`Meter`] with where it came from and when.
//! Built in from `prices.json` (beside this file); `stackctl cost --refresh` writes a newer
//! copy of a region's row, read from the AWS Price List API, to the user's cache, and a
//! cached row newer than the built-in one wins. A region in neither is said, never guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Meter;

/// The table shipped with stackctl.
const BUILT_IN: &str = include_str!("prices.json");

/// A file of prices: the built-in one or the cache `--refresh` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub regions: BTreeMap<String, RegionPrices>,
}

/// One region's prices, in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPrices {
    /// Where the prices were read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
    /// Every meter but [`Meter::DbInstanceHours`], which is per class.
    pub meters: BTreeMap<Meter, f64>,
    /// RDS for PostgreSQL, Single-AZ, per instance class.
    #[serde(default)]
    pub db_instance_hours: BTreeMap<String, f64>,
}

impl RegionPrices {
    /// The price of one unit of `meter` (of `class` for an instance), if the table has it.
    pub fn price(&self, meter: Meter, class: Option<&str>) -> Option<f64> {
        match meter {
            Meter::DbInstanceHours => class.and_then(|c| self.db_instance_hours.get(c).copied()),
            m => self.meters.get(&m).copied(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("{path}: {cause}")]
    Unreadable { path: PathBuf, cause: String },
}

impl PriceError {
    pub fn hint(&self) -> String {
        match self {
            PriceError::Unreadable { path, .. } => format!(
                "delete {} (stackctl then uses its built-in prices) or run `stackctl cost --refresh` again",
                path.display()
            ),
        }
    }
}

/// The prices in use: the built-in table with the cache's newer rows over it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    table: Table,
}

impl Prices {
    /// The built-in table alone.
    pub fn built_in() -> Prices {
        Prices {
            table: serde_json::from_str(BUILT_IN).expect("src/cost/prices.json parses"),
        }
    }

    /// The built-in table, with the rows of `cache` (when it exists) that are newer.
    pub fn load(cache: Option<&Path>) -> Result<Prices, PriceError> {
        let mut prices = Prices::built_in();
        if let Some(path) = cache
            && let Some(cached) = read(path)?
        {
            prices.merge(cached);
        }
        Ok(prices)
    }

    /// Rows of `other` replace older rows of the same region, and add regions.
    pub fn merge(&mut self, other: Table) {
        for (region, row) in other.regions {
            match self.table.regions.get(&region) {
                Some(have) if have.date > row.date => {}
                _ => {
                    self.table.regions.insert(region, row);
                }
            }
        }
    }

    pub fn region(&self, region: &str) -> Option<&RegionPrices> {
        self.table.regions.get(region)
    }

    /// The regions the table has, for an error that names them.
    pub fn regions(&self) -> Vec<&str> {
        self.table.regions.keys().map(String::as_str).collect()
    }
}

/// A table file, or `None` when there is none.
pub fn read(path: &Path) -> Result<Option<Table>, PriceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(PriceError::Unreadable {
                path: path.into(),
                cause: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| PriceError::Unreadable {
            path: path.into(),
            cause: format!("not a price table ({e})"),
        })
}

/// Write `table` to `path` (made with its directory), whole or not at all.
pub fn write(path: &Path, table: &Table) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_string_pretty(table).expect("serializes") + "\n",
    )?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_prices_every_meter_in_each_of_its_regions() {
        let p = Prices::built_in();
        assert!(!p.regions().is_empty());
        for region in p.regions() {
            let row = p.region(region).unwrap();
            assert!(
                row.date.len() == 10 && row.source.starts_with("http"),
                "{region}"
            );
            for m in Meter::ALL.iter().filter(|m| **m != Meter::DbInstanceHours) {
                let price = row.price(*m, None);
                assert!(
                    price.is_some_and(|x| x > 0.0),
                    "{region}: no price for {m:?}"
                );
            }
            assert!(
                row.price(Meter::DbInstanceHours, Some("db.t4g.micro"))
                    .is_some()
            );
        }
    }

    #[test]
    fn a_newer_cached_row_wins_and_an_older_one_does_not() {
        let mut p = Prices::built_in();
        let mut row = p.region("us-east-1").unwrap().clone();
        row.date = "2000-01-01".into();
        row.meters.insert(Meter::AlbHours, 9.0);
        let old = Table {
            regions: [("us-east-1".to_string(), row.clone())].into(),
        };
        p.merge(old);
        assert_ne!(p.region("us-east-1").unwrap().meters[&Meter::AlbHours], 9.0);
        row.date = "2999-01-01".into();
        let mut new = Table::default();
        new.regions.insert("us-east-1".into(), row.clone());
        new.regions.insert("eu-west-3".into(), row);
        p.merge(new);
        assert_eq!(p.region("us-east-1").unwrap().meters[&Meter::AlbHours], 9.0);
        assert!(p.region("eu-west-3").is_some());
    }

    #[test]
    fn a_damaged_cache_is_an_error_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("stackctl-prices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("prices.json");
        std::fs::write(&f, "{\"regions\": 3}").unwrap();
        let e = Prices::load(Some(&f)).unwrap_err();
        assert!(e.to_string().starts_with(&f.display().to_string()), "{e}");
        assert!(e.hint().contains("delete"));
        assert!(Prices::load(Some(&dir.join("absent.json"))).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
