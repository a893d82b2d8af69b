//! Per-client rate limiting (GCRA, i.e. a token bucket without a timer): each client may make
//! `burst` requests at once, refilled at `per_second`. Over the limit: 429 with `Retry-After`.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use foldhash::fast::RandomState;

const SHARDS: usize = 16;
/// A shard this large is swept of clients whose bucket is full again (they equal absent ones).
const SWEEP_AT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sustained requests per second per client; 0 disables limiting.
    pub per_second: u32,
    pub burst: u32,
    /// Behind a load balancer: key clients by the last `X-Forwarded-For` address.
    pub trust_forwarded_for: bool,
}

pub struct RateLimiter {
    config: RateLimitConfig,
    /// Nanoseconds between two requests at the sustained rate.
    interval: u64,
    /// How far ahead of now a client's theoretical arrival time may run.
    tolerance: u64,
    epoch: Instant,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<IpAddr, u64, RandomState>>>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        let interval = 1_000_000_000 / u64::from(config.per_second.max(1));
        Self {
            config,
            interval,
            tolerance: interval * u64::from(config.burst.max(1)),
            epoch: Instant::now(),
            hasher: RandomState::default(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.per_second > 0
    }

    /// `Ok(())` if the client may proceed, else `Err(seconds to wait)`.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.check_at(client, self.epoch.elapsed().as_nanos() as u64)
    }

    fn check_at(&self, client: IpAddr, now: u64) -> Result<(), u64> {
        let shard = &self.shards[self.hasher.hash_one(client) as usize % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let tat = map.get(&client).copied().unwrap_or(0).max(now) + self.interval;
        if tat - now > self.tolerance {
            let wait = tat - now - self.tolerance;
            return Err(wait.div_ceil(1_000_000_000).max(1));
        }
        if map.len() >= SWEEP_AT && !map.contains_key(&client) {
            map.retain(|_, t| *t > now);
        }
        map.insert(client, tat);
        Ok(())
    }

    /// The client's address: the TCP peer, or the last `X-Forwarded-For` hop when trusted.
    pub fn client_of(&self, headers: &HeaderMap, peer: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
        if self.config.trust_forwarded_for {
            let last = headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|ip| ip.trim().parse().ok());
            if let Some(ip) = last {
                return ip;
            }
        }
        peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn limiter(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitConfig {
            per_second,
            burst,
            trust_forwarded_for: true,
        })
    }

    #[test]
    fn burst_then_refill() {
        let l = limiter(2, 3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check_at(ip, 10 * SEC), Ok(()));
        }
        assert_eq!(l.check_at(ip, 10 * SEC), Err(1));
        assert_eq!(l.check_at("10.0.0.2".parse().unwrap(), 10 * SEC), Ok(()));
        // One request's worth refills in half a second.
        assert_eq!(l.check_at(ip, 10 * SEC + SEC / 2), Ok(()));
        assert!(l.check_at(ip, 10 * SEC + SEC / 2).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        let l = limiter(1, 1);
        let ip: IpAddr = "::1".parse().unwrap();
        assert_eq!(l.check_at(ip, SEC), Ok(()));
        assert_eq!(l.check_at(ip, SEC), Err(1));
        let slow = limiter(1, 5);
        for _ in 0..5 {
            slow.check_at(ip, 0).unwrap();
        }
        assert_eq!(slow.check_at(ip, 0), Err(1));
    }

    #[test]
    fn sweeps_idle_clients() {
        let l = limiter(1000, 1);
        for i in 0..(SWEEP_AT as u32 * SHARDS as u32 * 2) {
            l.check_at(IpAddr::V4(i.into()), u64::from(i) * SEC)
                .unwrap();
        }
        let total: usize = l.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= SWEEP_AT * SHARDS, "{total}");
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        let peer = ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9)));
        assert_eq!(
            limiter(1, 1).client_of(&headers, Some(&peer)).to_string(),
            "5.6.7.8"
        );
        let untrusted = RateLimiter::new(RateLimitConfig {
            per_second: 1,
            burst: 1,
            trust_forwarded_for: false,
        });
        assert_eq!(
            untrusted.client_of(&headers, Some(&peer)).to_string(),
            "127.0.0.1"
        );
        assert_eq!(untrusted.client_of(&headers, None).to_string(), "0.0.0.0");
    }
}
