//! Seeded, reproducible decisions. Each request gets its own random streams keyed on
//! (seed, `service:Action`, n-th call of that action), so the same seed and the same request
//! sequence give the same faults, and concurrent calls of other actions do not shift them.

use crate::config::{FaultConfig, Weights};
use crate::stats::FaultKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

pub struct Dice(ChaCha8Rng);

impl Dice {
    /// Two independent streams for one request: the per-request fault draw (`generic`), and
    /// the situational rules (`rules`), whose draws depend on timing and state.
    pub fn for_call(seed: u64, key: &str, n: u64) -> (Dice, Dice) {
        let base = seed ^ fnv1a(key.as_bytes()).rotate_left(17);
        let stream = |s: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(base);
            rng.set_stream(s);
            Dice(rng)
        };
        (stream(n.wrapping_mul(2)), stream(n.wrapping_mul(2) + 1))
    }

    /// A third stream for the ECS emulation (deployment ids, event ids): not a fault, so it
    /// must not shift the fault streams.
    pub fn for_emulation(seed: u64, key: &str, n: u64) -> Dice {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv1a(key.as_bytes()).rotate_left(17));
        rng.set_stream(!n);
        Dice(rng)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        // Always draw, so the stream does not depend on `p`.
        let u: f64 = self.0.random();
        u < p
    }

    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        if hi <= lo {
            return lo;
        }
        lo + Duration::from_millis(self.0.random_range(0..=(hi - lo).as_millis() as u64))
    }

    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.0.random_range(0..16), 16).unwrap())
            .collect()
    }

    /// `len` decimal digits, the first not zero.
    pub fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|i| char::from_digit(self.0.random_range(u32::from(i == 0)..10), 10).unwrap())
            .collect()
    }

    /// A UUID-shaped request id.
    pub fn request_id(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    fn pick(&mut self, weights: &[(FaultKind, u32)]) -> Option<FaultKind> {
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let draw = self.0.random_range(0..total.max(1));
        if total == 0 {
            return None;
        }
        let mut acc = 0;
        weights
            .iter()
            .find(|(_, w)| {
                acc += w;
                draw < acc
            })
            .map(|(k, _)| *k)
    }
}

/// A per-request fault, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generic {
    Error(FaultKind),
    ConnectionReset,
    Slow(Duration),
    ResponseLost,
}

pub fn generic(dice: &mut Dice, cfg: &FaultConfig) -> Option<Generic> {
    if !dice.chance(cfg.rate) {
        return None;
    }
    let Weights {
        throttle,
        too_many_requests,
        unavailable,
        internal_error,
        connection_reset,
        slow,
        response_lost,
    } = cfg.weights;
    let kind = dice.pick(&[
        (FaultKind::Throttle, throttle),
        (FaultKind::TooManyRequests, too_many_requests),
        (FaultKind::Unavailable, unavailable),
        (FaultKind::InternalError, internal_error),
        (FaultKind::ConnectionReset, connection_reset),
        (FaultKind::Slow, slow),
        (FaultKind::ResponseLost, response_lost),
    ])?;
    let delay = dice.between(cfg.slow.0, cfg.slow.1);
    Some(match kind {
        FaultKind::ConnectionReset => Generic::ConnectionReset,
        FaultKind::Slow => Generic::Slow(delay),
        FaultKind::ResponseLost => Generic::ResponseLost,
        k => Generic::Error(k),
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(rate: f64) -> FaultConfig {
        FaultConfig::new("http://127.0.0.1:1".parse().unwrap(), 7, rate)
    }

    #[test]
    fn same_seed_same_faults() {
        let seq = |seed| -> Vec<Option<Generic>> {
            let c = FaultConfig { seed, ..cfg(0.5) };
            (1..200)
                .map(|n| generic(&mut Dice::for_call(c.seed, "ec2:DescribeVpcs", n).0, &c))
                .collect()
        };
        assert_eq!(seq(1), seq(1));
        assert_ne!(seq(1), seq(2));
    }

    #[test]
    fn rate_bounds() {
        let count = |rate| {
            let c = cfg(rate);
            (1..1000)
                .filter(|n| generic(&mut Dice::for_call(3, "iam:GetRole", *n).0, &c).is_some())
                .count()
        };
        assert_eq!(count(0.0), 0);
        assert_eq!(count(1.0), 999);
        let fifth = count(0.2);
        assert!((120..280).contains(&fifth), "{fifth}");
    }
}
