//! The run lock: an SSM parameter created with Overwrite=false, so one `up` or `down` of a
//! stack acts at a time, from any machine. A crashed run leaves it behind: `--force-unlock`
//! breaks it, and says whose lock it broke.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::aws::{Aws, AwsError, ssm};
use crate::names::Names;

/// How to meet another run's lock.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waiting {
    /// How long to wait for it (zero: give up at once).
    pub timeout: Duration,
    /// Break it first (a run that crashed leaves its lock).
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds the lock: what it is, and what to do.
    #[error("{message}")]
    Held { message: String, hint: String },
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Who holds the lock: the parameter's value, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub who: String,
    pub pid: u32,
    pub command: String,
    /// Unix seconds, on the holder's clock.
    pub since: u64,
    /// Random: tells our own lock (a create whose reply was lost) from another run's.
    pub id: String,
}

impl Holder {
    pub fn me(command: &str) -> Holder {
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Holder {
            who: format!("{user}@{}", hostname()),
            pid: std::process::id(),
            command: command.into(),
            since: now(),
            id: ssm::generate_token()[..16].to_string(),
        }
    }

    pub fn describe(&self) -> String {
        let age = now().saturating_sub(self.since);
        let age = match age {
            s if s < 120 => format!("{s}s"),
            s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
            s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        };
        format!(
            "`{}` by {} (pid {}), started {age} ago",
            self.command, self.who, self.pid
        )
    }

    /// The holder ran on this machine and its process is gone: it crashed or was killed.
    fn is_dead_here(&self) -> bool {
        let proc = std::path::Path::new("/proc");
        self.who.ends_with(&format!("@{}", hostname()))
            && proc.join("self").exists()
            && !proc.join(self.pid.to_string()).exists()
    }

    fn parse(value: &str) -> Holder {
        serde_json::from_str(value).unwrap_or_else(|_| Holder {
            who: format!(
                "unknown (lock value {:?})",
                value.chars().take(80).collect::<String>()
            ),
            pid: 0,
            command: "?".into(),
            since: now(),
            id: String::new(),
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A lock this run holds. Release it with [`Lock::run`] or [`Lock::release`].
pub struct Lock {
    name: String,
    holder: Holder,
}

/// The current holder, if any (a read: a converged run takes no lock but still respects one).
pub async fn peek(aws: &Aws, names: &Names) -> Result<Option<Holder>, AwsError> {
    read(aws, &names.lock_parameter()).await
}

/// Take the lock for `command`, waiting for another run's or breaking it as `waiting` says.
/// `say` tells the user what is happening.
pub async fn acquire(
    aws: &Aws,
    names: &Names,
    command: &str,
    waiting: Waiting,
    say: impl Fn(&str),
) -> Result<Lock, LockError> {
    let name = names.lock_parameter();
    let me = Holder::me(command);
    let start = Instant::now();
    let timeout = waiting.timeout;
    let (mut force, mut announced, mut unseen) = (waiting.force, false, 0);
    loop {
        match put(aws, names, &name, &me).await {
            Ok(()) => return Ok(Lock { name, holder: me }),
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(e.into()),
        }
        let held = match read(aws, &name).await? {
            Some(h) => h,
            // Released in between, or not visible yet: try again, for a few seconds at most.
            None if unseen < 20 => {
                unseen += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            None => {
                return Err(AwsError::new("take lock", &name, "exists but cannot be read").into());
            }
        };
        if held.id == me.id {
            // Our own create: its reply was lost and the SDK retried.
            return Ok(Lock { name, holder: me });
        }
        if force {
            say(&format!(
                "Breaking the lock of stack {} (env {}): held by {}.",
                names.stack,
                names.env,
                held.describe()
            ));
            ssm::delete(aws, &name).await?;
            // Only the lock seen here is broken; one taken after it is waited for as usual.
            force = false;
            continue;
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(held_failure(names, &held, timeout));
        }
        if !announced {
            say(&format!(
                "Waiting up to {}s for the lock of stack {} (env {}), held by {}.",
                timeout.as_secs(),
                names.stack,
                names.env,
                held.describe()
            ));
            announced = true;
        }
        tokio::time::sleep((timeout - elapsed).min(Duration::from_secs(1))).await;
    }
}

fn held_failure(names: &Names, held: &Holder, waited: Duration) -> LockError {
    let waited = if waited.as_secs() > 0 {
        format!(" (waited {}s)", waited.as_secs())
    } else {
        String::new()
    };
    let hint = if held.is_dead_here() {
        format!(
            "process {} no longer runs on this machine: that run crashed or was killed. \
             Pass --force-unlock to break its lock; the next run resumes its work",
            held.pid
        )
    } else {
        "another stackctl run is changing this stack: wait for it to finish (--lock-timeout SECS \
         waits for it). If that run crashed, --force-unlock breaks its lock"
            .into()
    };
    LockError::Held {
        message: format!(
            "stack {} (env {}) is locked by {}{waited}",
            names.stack,
            names.env,
            held.describe()
        ),
        hint,
    }
}

impl Lock {
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Run `work` under the lock, then release it, on error and on Ctrl-C too (a crash
    /// leaves it: that is what --force-unlock is for).
    pub async fn run<T, E: From<LockError>>(
        self,
        aws: &Aws,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let result = tokio::select! {
            r = work => r,
            _ = tokio::signal::ctrl_c() => Err(LockError::Interrupted.into()),
        };
        if let Err(e) = self.release(aws).await {
            eprintln!("warning: could not release the run lock: {e}");
            eprintln!("hint: the next run will need --force-unlock");
        }
        result
    }

    /// Delete the lock unless another run took it over after a --force-unlock.
    pub async fn release(self, aws: &Aws) -> Result<(), AwsError> {
        match read(aws, &self.name).await? {
            Some(other) if other.id != self.holder.id => {
                eprintln!(
                    "warning: the run lock was broken and is now held by {}; leaving it",
                    other.describe()
                );
                Ok(())
            }
            // Ours, or not visible (yet): delete, "not found" counts as done.
            _ => ssm::delete(aws, &self.name).await,
        }
    }
}

async fn put(aws: &Aws, names: &Names, name: &str, me: &Holder) -> Result<(), AwsError> {
    let description = format!("stackctl run lock of {}/{}", names.stack, names.env);
    let value = serde_json::to_string(me).expect("holder serializes");
    ssm::put_new(
        aws,
        names,
        "lock",
        name,
        &description,
        ssm::Content::Plain(&value),
    )
    .await
}

async fn read(aws: &Aws, name: &str) -> Result<Option<Holder>, AwsError> {
    Ok(ssm::value(aws, name).await?.as_deref().map(Holder::parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_round_trips_and_describes() {
        let me = Holder::me("up");
        let back = Holder::parse(&serde_json::to_string(&me).unwrap());
        assert_eq!(back, me);
        assert!(me.describe().starts_with("`up` by "), "{}", me.describe());
        assert!(
            me.describe()
                .contains(&format!("pid {}", std::process::id()))
        );
        assert!(!me.is_dead_here(), "this process is alive");
        let old = Holder {
            since: now() - 3725,
            ..me
        };
        assert!(
            old.describe().ends_with("started 1h02m ago"),
            "{}",
            old.describe()
        );
    }

    #[test]
    fn foreign_values_are_reported_not_trusted() {
        let h = Holder::parse("someone wrote this");
        assert!(h.who.contains("someone wrote this"));
        assert!(h.id.is_empty());
    }
}
