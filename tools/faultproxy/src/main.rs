//! `faultproxy --upstream URL --seed N --rate 0.2 [--port P] [--profile NAME]`
//! `[--ecs-rollout-secs S] [--no-ecs-emulation]`

use clap::Parser;
use faultproxy::{FaultConfig, Profile, Proxy, Url};
use std::time::Duration;

#[derive(Parser)]
#[command(
    version,
    about = "Seeded fault-injecting proxy between the AWS SDK and moto"
)]
struct Args {
    /// Upstream AWS emulator, e.g. http://127.0.0.1:5055
    #[arg(long, env = "FAULTPROXY_UPSTREAM")]
    upstream: Url,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Probability (0..=1) that a request gets a fault.
    #[arg(long, default_value_t = 0.2)]
    rate: f64,
    /// Port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// realistic | throttle-only | transient | consistency | passthrough
    #[arg(long, default_value = "realistic", value_parser = parse_profile)]
    profile: Profile,
    /// Length of every situational window (consistency, IAM propagation, ENI drain, ALB
    /// provisioning), in seconds.
    #[arg(long)]
    window_secs: Option<f64>,
    /// Turn off the ECS data plane emulation (rollouts, draining, target health), which is
    /// on at any rate and profile.
    #[arg(long)]
    no_ecs_emulation: bool,
    /// How long an emulated ECS deployment takes to complete, in seconds.
    #[arg(long, default_value_t = 2.0)]
    ecs_rollout_secs: f64,
    /// How long a minute of a deployment strategy's bake and wait times lasts, in seconds.
    #[arg(long, default_value_t = 60.0)]
    ecs_minute_secs: f64,
    /// Print the statistics every N seconds (0: only at exit).
    #[arg(long, default_value_t = 0)]
    stats_every: u64,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| {
        format!(
            "unknown profile {s:?}; one of {}",
            Profile::NAMES.join(", ")
        )
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "faultproxy=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut cfg = FaultConfig::new(args.upstream, args.seed, args.rate).with_profile(args.profile);
    cfg.port = args.port;
    cfg.ecs_emulation = !args.no_ecs_emulation;
    cfg.ecs_rollout = Duration::try_from_secs_f64(args.ecs_rollout_secs)
        .map_err(|e| format!("--ecs-rollout-secs: {e}"))?;
    cfg.ecs_minute = Duration::try_from_secs_f64(args.ecs_minute_secs)
        .map_err(|e| format!("--ecs-minute-secs: {e}"))?;
    if let Some(w) = args.window_secs {
        let w = Duration::from_secs_f64(w);
        for rule in [
            &mut cfg.consistency,
            &mut cfg.role_propagation,
            &mut cfg.eni_drain,
            &mut cfg.alb_provisioning,
        ] {
            rule.window = w;
        }
    }
    let proxy = Proxy::start(cfg).await?;
    println!("{}", proxy.url());
    if args.stats_every > 0 {
        let mut tick = tokio::time::interval(Duration::from_secs(args.stats_every));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => eprintln!("{:?}", proxy.stats()),
                _ = tokio::signal::ctrl_c() => break,
            }
        }
    } else {
        tokio::signal::ctrl_c().await?;
    }
    let stats = proxy.stats();
    proxy.shutdown().await;
    eprintln!(
        "calls: {} faults: {}",
        stats.total_calls, stats.total_faults
    );
    for (kind, count) in &stats.faults {
        eprintln!("  {kind:<20} {count}");
    }
    Ok(())
}
