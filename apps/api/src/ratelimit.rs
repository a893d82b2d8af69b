//! Per-client rate limiting (GCRA, `governor`'s keyed limiter): each client may make `burst`
//! requests at once, refilled at `per_second`. Over the limit: 429 with `Retry-After`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use axum::http::HeaderMap;
use foldhash::fast::RandomState;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};

/// Every this many checks, clients whose bucket is full again (they equal absent ones) are
/// swept out once there are more than `SWEEP_AT`: the map stays bounded by recent clients.
const SWEEP_EVERY: u32 = 4096;
const SWEEP_AT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sustained requests per second per client; 0 disables limiting.
    pub per_second: u32,
    pub burst: u32,
    /// Behind a load balancer: key clients by the last `X-Forwarded-For` address.
    pub trust_forwarded_for: bool,
}

type Keyed<C> =
    Gcra<IpAddr, DashMapStateStore<IpAddr, RandomState>, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub struct RateLimiter<C: Clock = DefaultClock> {
    config: RateLimitConfig,
    clock: C,
    /// None when limiting is off.
    keyed: Option<Keyed<C>>,
    checks: AtomicU32,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(config: RateLimitConfig, clock: C) -> Self {
        let keyed = NonZeroU32::new(config.per_second).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
            Gcra::dashmap_with_clock_and_hasher(
                Quota::per_second(rate).allow_burst(burst),
                clock.clone(),
                RandomState::default(),
            )
        });
        Self {
            config,
            clock,
            keyed,
            checks: AtomicU32::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.keyed.is_some()
    }

    /// `Ok(())` if the client may proceed, else `Err(seconds to wait)`, at least 1.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(keyed) = &self.keyed else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
            && keyed.len() > SWEEP_AT
        {
            keyed.retain_recent();
        }
        keyed.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_nanos().div_ceil(1_000_000_000).max(1) as u64
        })
    }

    /// The client's address: the TCP peer, or the last `X-Forwarded-For` hop when trusted.
    pub fn client_of(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
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
        peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(per_second: u32, burst: u32) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let config = RateLimitConfig {
            per_second,
            burst,
            trust_forwarded_for: true,
        };
        (RateLimiter::with_clock(config, clock.clone()), clock)
    }

    #[test]
    fn burst_then_refill() {
        let (l, clock) = limiter(2, 3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(ip), Ok(()));
        }
        assert_eq!(l.check(ip), Err(1));
        assert_eq!(l.check("10.0.0.2".parse().unwrap()), Ok(()));
        // One request's worth refills in half a second.
        clock.advance(Duration::from_millis(500));
        assert_eq!(l.check(ip), Ok(()));
        assert!(l.check(ip).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        let (l, _) = limiter(1, 1);
        let ip: IpAddr = "::1".parse().unwrap();
        assert_eq!(l.check(ip), Ok(()));
        assert_eq!(l.check(ip), Err(1));
        let (slow, _) = limiter(1, 5);
        for _ in 0..5 {
            slow.check(ip).unwrap();
        }
        assert_eq!(slow.check(ip), Err(1));
        // 0.8 s to wait is said as 1 s.
        let (l, clock) = limiter(1, 1);
        l.check(ip).unwrap();
        clock.advance(Duration::from_millis(200));
        assert_eq!(l.check(ip), Err(1));
    }

    #[test]
    fn off_when_the_rate_is_zero() {
        let (l, _) = limiter(0, 0);
        assert!(!l.enabled());
        for _ in 0..1000 {
            assert_eq!(l.check("10.0.0.1".parse().unwrap()), Ok(()));
        }
    }

    #[test]
    fn sweeps_idle_clients() {
        let (l, clock) = limiter(1000, 1);
        for i in 0..(SWEEP_EVERY * 8) {
            l.check(IpAddr::V4(i.into())).unwrap();
            clock.advance(Duration::from_millis(10));
        }
        let keyed = l.keyed.as_ref().unwrap();
        assert!(
            keyed.len() <= SWEEP_AT + SWEEP_EVERY as usize,
            "{}",
            keyed.len()
        );
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        let peer = SocketAddr::from(([127, 0, 0, 1], 9));
        assert_eq!(
            limiter(1, 1).0.client_of(&headers, Some(peer)).to_string(),
            "5.6.7.8"
        );
        let untrusted = RateLimiter::new(RateLimitConfig {
            per_second: 1,
            burst: 1,
            trust_forwarded_for: false,
        });
        assert_eq!(
            untrusted.client_of(&headers, Some(peer)).to_string(),
            "127.0.0.1"
        );
        assert_eq!(untrusted.client_of(&headers, None).to_string(), "0.0.0.0");
    }
}
