//! `stackctl cost`: the estimate from the built-in table, a region the table lacks (said,
//! never guessed), and `--refresh` from a stand-in of the AWS Price List API
//! (tests/common/pricing.rs) reached through `AWS_ENDPOINT_URL_PRICING`, none of which needs
//! moto; and `plan` and `up` showing what a change costs, against moto.

mod common;

use std::path::Path;

use common::pricing::{PriceList, product};
use serde_json::{Value, json};

const H: f64 = 730.0;

/// Prices for eu-west-3 that are the stand-in's, not AWS's (the built-in table has no
/// eu-west-3 row: these are only ever read through `--refresh`), with the products a refresh
/// must not mistake for the ones it wants: ARM and Spot Fargate, a Network Load Balancer,
/// Multi-AZ and MySQL instances, another region's Fargate. No CloudWatch alarm price.
fn catalog() -> Vec<Value> {
    let r = |usage: &str| json!({ "regionCode": "eu-west-3", "usagetype": usage });
    let db = |engine: &str, deployment: &str| {
        let usage = if deployment == "Multi-AZ" {
            "EUW3-Multi-AZUsage:db.t4g.micro"
        } else {
            "EUW3-InstanceUsage:db.t4g.micro"
        };
        json!({ "regionCode": "eu-west-3", "usagetype": usage,
                "instanceType": "db.t4g.micro", "databaseEngine": engine, "deploymentOption": deployment })
    };
    vec![
        product(
            "AmazonECS",
            "Compute",
            r("EUW3-Fargate-vCPU-Hours:perCPU"),
            "0.0465600000",
        ),
        product(
            "AmazonECS",
            "Compute",
            r("EUW3-Fargate-GB-Hours"),
            "0.0051100000",
        ),
        product(
            "AmazonECS",
            "Compute",
            r("EUW3-Fargate-ARM-vCPU-Hours:perCPU"),
            "0.0372500000",
        ),
        product(
            "AmazonECS",
            "Compute",
            r("EUW3-SpotUsage:Fargate-vCPU-Hours:perCPU"),
            "0.0140000000",
        ),
        product(
            "AmazonECS",
            "Compute",
            json!({ "regionCode": "us-east-1", "usagetype": "USE1-Fargate-vCPU-Hours:perCPU" }),
            "0.0404800000",
        ),
        product(
            "AWSELB",
            "Load Balancer-Application",
            r("EUW3-LoadBalancerUsage"),
            "0.0264600000",
        ),
        product(
            "AWSELB",
            "Load Balancer-Application",
            r("EUW3-LCUUsage"),
            "0.0084000000",
        ),
        product(
            "AWSELB",
            "Load Balancer-Network",
            r("EUW3-LoadBalancerUsage"),
            "0.0252000000",
        ),
        product(
            "AmazonVPC",
            "IP Address",
            r("EUW3-PublicIPv4:InUseAddress"),
            "0.0050000000",
        ),
        product(
            "AmazonVPC",
            "IP Address",
            r("EUW3-PublicIPv4:IdleAddress"),
            "0.0050000000",
        ),
        product(
            "AmazonCloudWatch",
            "Data Payload",
            r("EUW3-DataProcessing-Bytes"),
            "0.5300000000",
        ),
        product(
            "AmazonCloudWatch",
            "Storage Snapshot",
            r("EUW3-TimedStorage-ByteHrs"),
            "0.0318000000",
        ),
        product(
            "AmazonECR",
            "EC2 Container Registry",
            r("EUW3-TimedStorage-ByteHrs"),
            "0.1000000000",
        ),
        product(
            "AmazonRDS",
            "Database Instance",
            db("PostgreSQL", "Single-AZ"),
            "0.0190000000",
        ),
        product(
            "AmazonRDS",
            "Database Instance",
            db("PostgreSQL", "Multi-AZ"),
            "0.0380000000",
        ),
        product(
            "AmazonRDS",
            "Database Instance",
            db("MySQL", "Single-AZ"),
            "0.0180000000",
        ),
        product(
            "AmazonRDS",
            "Database Storage",
            r("EUW3-RDS:GP3-Storage"),
            "0.1380000000",
        ),
        product(
            "AmazonRDS",
            "Database Storage",
            r("EUW3-RDS:Multi-AZ-GP3-Storage"),
            "0.2760000000",
        ),
        product(
            "AWSSecretsManager",
            "Secret",
            r("EUW3-AWSSecretsManager-Secrets"),
            "0.4000000000",
        ),
        product(
            "AmazonRoute53",
            "DNS Zone",
            json!({ "usagetype": "HostedZone" }),
            "0.5000000000",
        ),
    ]
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps/api");
    let yaml = format!(
        "name: pricey\nregion: eu-west-3\nnetwork: {{ cidr: 10.42.0.0/16, azs: 2 }}\nservices:\n  api:\n    build: {}\n    port: 8080\n    desired: 2\n    health: /status\n    public: true\n    scaling: {{ min: 2, max: 4, cpu: 60 }}\ndatabase:\n  version: \"18\"\n  services: [api]\n",
        api.display()
    );
    std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
    dir
}

/// stackctl in `dir` with its own cache, credentials and `env`.
fn stackctl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("STACKCTL_ENV")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_region_missing_from_the_table_is_said_with_what_to_do() {
    let dir = project();
    let (code, out, err) = stackctl(dir.path(), &["cost"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "no figure is guessed: {out}");
    assert!(
        err.starts_with("error: no prices for eu-west-3 in stackctl's table (it has us-east-1, us-east-2, us-west-2)"),
        "{err}"
    );
    assert!(
        err.contains("stackctl cost --refresh") && err.contains("hint:"),
        "{err}"
    );
    assert!(
        !err.contains("{ ") && !err.contains("Some("),
        "no Debug dump: {err}"
    );
    // The same stack in a region of the table.
    let (code, out, err) = stackctl(dir.path(), &["cost", "--region", "us-east-1"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("db.t4g.micro × 730 h") && out.contains("$0.016/h"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_reads_the_regions_prices_from_the_price_list_api_and_keeps_them() {
    let api = PriceList::start(catalog()).await;
    let dir = project();
    let endpoint = [("AWS_ENDPOINT_URL_PRICING", api.url.as_str())];
    let (code, out, err) = stackctl(dir.path(), &["cost", "--refresh"], &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    // Asked for us-east-1 (the stand-in refuses any other signing region), about eu-west-3.
    let asked = api.requests.lock().unwrap().clone();
    // One read per service and filters, each over several pages.
    assert!(
        asked.iter().any(|r| r["NextToken"].is_string()),
        "{asked:?}"
    );
    assert!(
        asked
            .iter()
            .filter(|r| r["ServiceCode"] != "AmazonRoute53")
            .all(|r| {
                r["Filters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["Field"] == "regionCode" && f["Value"] == "eu-west-3")
            })
    );
    // The alarm price it could not find is said; the estimate counts it as unknown, not 0.
    assert!(
        err.contains("warning: the Price List API has no price for CloudWatch alarms"),
        "{err}"
    );
    assert!(
        out.contains("no price")
            && out.contains("plus what the table has no price for: CloudWatch alarms"),
        "{out}"
    );
    // By hand, with the stand-in's prices: the load balancer (hours, 1 LCU, 2 addresses),
    // 2 tasks of 0.25 vCPU and 0.5 GB with an address each, 1 GB of logs kept 30 days,
    // 30 images of 10 MB, db.t4g.micro with 20 GB of gp3 and its secret.
    let hand = H * 0.02646
        + H * 0.0084
        + 2.0 * H * 0.005
        + 2.0 * (0.25 * H * 0.04656 + 0.5 * H * 0.00511 + H * 0.005)
        + 0.53
        + 0.0318
        + 30.0 * 10.0 / 1024.0 * 0.10
        + H * 0.019
        + 20.0 * 0.138
        + 0.40;
    let total = format!("${hand:.2}");
    assert_eq!(total, "$78.39");
    let total_line = out.lines().find(|l| l.contains("Total a month")).unwrap();
    assert!(total_line.ends_with(&total), "{out}");
    // The Application Load Balancer's price, not the Network one's; x86, not ARM or Spot.
    assert!(
        out.contains("$0.02646/h") && out.contains("$0.04656/vCPU-h"),
        "{out}"
    );

    // Kept: a later run prices eu-west-3 without asking again, in JSON too.
    let cache = dir.path().join("cache/stackctl/prices.json");
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(
        kept["regions"]["eu-west-3"]["meters"]["fargate-vcpu-hours"],
        0.04656
    );
    assert_eq!(
        kept["regions"]["eu-west-3"]["db_instance_hours"]["db.t4g.micro"],
        0.019
    );
    let before = api.requests.lock().unwrap().len();
    let (code, out, err) = stackctl(dir.path(), &["cost", "-o", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(api.requests.lock().unwrap().len(), before);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["estimate"]["total"].as_f64(), Some(78.39));
    assert_eq!(json["estimate"]["region"], "eu-west-3");
    assert!(
        json["estimate"]["source"]
            .as_str()
            .unwrap()
            .contains("Price List")
    );

    // A damaged cache is named, with what to do.
    std::fs::write(&cache, "{ not json").unwrap();
    let (code, _, err) = stackctl(dir.path(), &["cost"], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&cache.display().to_string()) && err.contains("hint: delete"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_the_price_list_api_refuses_is_one_sentence_and_writes_nothing() {
    let api = PriceList::start(Vec::new()).await;
    let dir = project();
    let endpoint = [("AWS_ENDPOINT_URL_PRICING", api.url.as_str())];
    let (code, out, err) = stackctl(dir.path(), &["cost", "--refresh"], &endpoint);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("read prices of") && err.contains("NotFoundException"),
        "{err}"
    );
    assert!(!dir.path().join("cache/stackctl/prices.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_up_show_what_the_change_costs() {
    let Some(moto) = common::moto() else { return };
    let p = common::Project::new(&moto, "");
    let before = p.run(&["plan"]).ok();
    // The built-in us-east-1 prices (src/plan/tests_cost.rs sums the same by hand).
    assert!(
        before
            .stdout
            .contains("Cost: about $55.44 a month after this change ($0.00 now, +$55.44)"),
        "{}",
        before.stdout
    );
    assert!(
        before.stdout.contains("load balancer") && before.stdout.contains("+$29.57"),
        "{}",
        before.stdout
    );
    let json: Value = serde_json::from_str(&p.run(&["plan", "-o", "json"]).ok().stdout).unwrap();
    assert_eq!(
        (json["cost"]["now"].as_f64(), json["cost"]["after"].as_f64()),
        (Some(0.0), Some(55.44))
    );
    let up = p.run(&["up"]).ok();
    assert!(up.stdout.contains("+$55.44"), "{}", up.stdout);
    // What AWS reports now is priced as what stack.yaml declares: no difference.
    let after = p.run(&["plan"]).ok();
    assert!(
        after.stdout.contains("($55.44 now, $0.00)"),
        "{}",
        after.stdout
    );
    // An environment with more tasks: only the kinds whose cost changes are listed.
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(p.stack_file(), yaml.replace("desired: 2", "desired: 3")).unwrap();
    let more = p.run(&["plan"]).ok();
    assert!(
        more.stdout.contains("($55.44 now, +$12.66)"),
        "{}",
        more.stdout
    );
    assert!(
        more.stdout.contains("ECS service") && !more.stdout.contains("  load balancer"),
        "{}",
        more.stdout
    );
}
