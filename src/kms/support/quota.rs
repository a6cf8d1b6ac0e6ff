//! A token bucket on the [`Clock`](crate::Clock): the custom key store request quota.

use crate::clock::Timestamp;

/// Allows `rate` requests per second with bursts of up to `rate`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    rate: u32,
    /// Tokens, in thousandths, so refills at millisecond granularity are exact.
    milli_tokens: u64,
    last: Timestamp,
}

impl TokenBucket {
    pub(crate) fn new(rate: u32, now: Timestamp) -> TokenBucket {
        TokenBucket {
            rate,
            milli_tokens: u64::from(rate) * 1000,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn try_take(&mut self, now: Timestamp) -> bool {
        let cap = u64::from(self.rate) * 1000;
        if now > self.last {
            let elapsed = now.as_millis() - self.last.as_millis();
            // rate tokens per 1000 ms = rate milli-tokens per ms.
            self.milli_tokens = cap.min(
                self.milli_tokens
                    .saturating_add(elapsed.saturating_mul(u64::from(self.rate))),
            );
            self.last = now;
        }
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_rate_per_second_then_refills_with_time() {
        let t0 = Timestamp::from_millis(1_000_000);
        let mut b = TokenBucket::new(10, t0);
        assert_eq!((0..20).filter(|_| b.try_take(t0)).count(), 10);
        let t1 = Timestamp::from_millis(1_000_100);
        assert_eq!(
            (0..20).filter(|_| b.try_take(t1)).count(),
            1,
            "100 ms refills one token at 10/s"
        );
        let t2 = Timestamp::from_millis(1_010_000);
        assert_eq!(
            (0..20).filter(|_| b.try_take(t2)).count(),
            10,
            "never more than one second's burst"
        );
    }
}
