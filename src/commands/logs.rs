//! `stackctl logs [SERVICE] [-f] [--since 10m]`: the service's log group, all tasks
//! interleaved by time.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Failure, connect, load, service_list, unknown_service};
use crate::aws;
use crate::cli::{Cli, LogsArgs};

pub async fn run(cli: &Cli, args: &LogsArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let svc = match &args.service {
        Some(s) if stack.services.contains_key(s) => s.clone(),
        Some(s) => return Err(unknown_service(&stack, s)),
        None if stack.services.len() == 1 => {
            stack.services.keys().next().cloned().unwrap_or_default()
        }
        None => {
            let list = service_list(&stack);
            return Err(Failure::Usage(format!("name the service: {list}")));
        }
    };
    let aws = connect(cli, &stack).await?;
    let group = stack.names().log_group(&svc);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let mut start = now_ms - args.since.0.as_millis() as i64;
    // Events at the boundary timestamp may come again on the next poll.
    let mut printed: HashSet<(i64, String, String)> = HashSet::new();
    loop {
        let mut token = None;
        let mut newest = start;
        loop {
            let (events, next) = aws::logs::events(&aws, &group, start, token.clone()).await?;
            for (ts, stream, message) in events {
                let key = (ts, stream.clone(), message.clone());
                if printed.insert(key) {
                    let task = stream.rsplit('/').next().unwrap_or(&stream);
                    let short = &task[..task.len().min(8)];
                    println!("{} {short} {}", rfc3339_ms(ts), message.trim_end());
                }
                newest = newest.max(ts);
            }
            if next.is_none() || next == token {
                break;
            }
            token = next;
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        printed.retain(|(ts, ..)| *ts >= newest);
        start = newest;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let base = crate::clock::rfc3339(secs.max(0) as u64);
    format!("{}.{:03}Z", base.trim_end_matches('Z'), ms.rem_euclid(1000))
}
