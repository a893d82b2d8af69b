//! Driver for scripts/bench/image.sh: builds a package's image and pushes it, `runs`
//! times, printing one JSON line of figures per run.
//!
//! `image_bench <package_dir> <target_dir> <registry host:port> <repository> <runs>`

use std::time::Instant;

use stackctl::image::{self, BuildSpec, RegistryAuth, RegistryTarget};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [package_dir, target_dir, registry, repository, runs] = &args[..] else {
        return Err(
            "usage: image_bench <package_dir> <target_dir> <registry> <repository> <runs>".into(),
        );
    };
    let spec = BuildSpec {
        package_dir: package_dir.into(),
        target_dir: Some(target_dir.into()),
        stack: "bench".into(),
        service: "api".into(),
        ..BuildSpec::default()
    };
    let target = RegistryTarget::new(registry, repository, RegistryAuth::Anonymous)?;
    for run in 0..runs.parse::<u32>()? {
        let start = Instant::now();
        let built = image::build(&spec, &|_| {}).await?;
        let build_s = start.elapsed().as_secs_f64();
        let published = image::publish(&built, &target, "bench").await?;
        let total_s = start.elapsed().as_secs_f64();
        println!(
            "{{\"run\":{run},\"build_s\":{build_s:.3},\"push_s\":{:.3},\"total_s\":{total_s:.3},\
             \"compressed_bytes\":{},\"binary_bytes\":{},\"bytes_uploaded\":{},\
             \"blobs_skipped\":{},\"digest\":\"{}\"}}",
            total_s - build_s,
            built.compressed_size(),
            built.binary_size,
            published.bytes_uploaded,
            published.blobs_skipped,
            built.digest()
        );
    }
    Ok(())
}
