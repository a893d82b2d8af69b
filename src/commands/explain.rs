//! `stackctl explain`: every resource of the stack with the settings stackctl sends, in the
//! order `up` creates them and `down` deletes them. Reads stack.yaml only.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::{Failure, load, partition};
use crate::cli::{Cli, ExplainArgs};
use crate::config::Source;
use crate::engine::explain::explain;
use crate::image;
use crate::plan::{Facts, Image, desired::desired};

pub fn run(cli: &Cli, args: &ExplainArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let region = cli
        .region
        .clone()
        .or_else(|| stack.region.clone())
        .unwrap_or_else(|| "REGION".into());
    let names = stack.names();
    // What AWS and the build would tell `up`, as placeholders.
    let zones = (0..usize::from(stack.network.azs))
        .map(|i| match stack.network.zones.get(i) {
            Some(z) => z.clone(),
            None => format!("<zone {}, chosen by up>", i + 1),
        })
        .collect();
    let images = stack
        .services
        .values()
        .map(|svc| {
            let image = match &svc.source {
                Source::Build(_) => Image {
                    reference: format!(
                        "{}/{}@sha256:<digest of the built image>",
                        image::ecr::host(&args.account, &region),
                        names.repository(&svc.name)
                    ),
                    health_command: Some(vec![
                        "CMD".into(),
                        image::layer::binary_path("<binary>"),
                        "healthcheck".into(),
                    ]),
                },
                Source::Image(r) => Image {
                    reference: format!("{r} (by digest)"),
                    health_command: Some(vec![]),
                },
            };
            (svc.name.clone(), image)
        })
        .collect();
    let facts = Facts {
        account: args.account.clone(),
        partition: partition(&region).into(),
        region,
        zones,
        images,
        tokens: BTreeMap::new(),
        database: None,
        zone: None,
        load_balancer_dns: None,
    };
    let want = desired(&stack, &facts);
    print!("{}", explain(&want, &facts, &stack.name, &stack.env));
    Ok(ExitCode::SUCCESS)
}
