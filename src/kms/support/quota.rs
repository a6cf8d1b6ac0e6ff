//! The custom key store request quota: a token bucket on the
//! [`Clock`](crate::Clock) ([`TokenBucket`]), shared by every thread as a
//! [`Quota`].
//!
//! A granted request must be counted in one place, or the quota would not
//! be exact; a refused one need not. So [`Quota`] keeps the bucket behind a
//! mutex, which only a call that may get a token takes, and beside it the
//! time the next token arrives, published whenever the bucket runs dry: a
//! call before that time is refused with one load of a word no caller
//! writes. Shared writes are then bounded by the quota (requests per
//! second per store), not by the callers' rate: a store driven past its
//! quota from every core costs its callers no contended line.

use crate::clock::Timestamp;
use crate::sync::{AtomicU64, Mutex, Ordering};

/// The quota of one custom key store, shared by its store entries'
/// snapshots and every caller.
#[derive(Debug)]
pub(crate) struct Quota {
    bucket: Mutex<TokenBucket>,
    /// Milliseconds: before this time the bucket has no token (0: ask the
    /// bucket). Written under `bucket`'s lock after every take.
    empty_until: AtomicU64,
}

impl Quota {
    /// A full bucket of `rate` requests per second.
    pub(crate) fn new(rate: u32, now: Timestamp) -> Quota {
        Quota {
            bucket: Mutex::new(TokenBucket::new(rate, now)),
            empty_until: AtomicU64::new(0),
        }
    }

    /// Takes one token if there is one at `now` — exactly as
    /// [`TokenBucket::try_take`] would decide, without taking the lock
    /// while the bucket is known to be empty.
    pub(crate) fn try_take(&self, now: Timestamp) -> bool {
        if now.as_millis() < self.empty_until.load(Ordering::Acquire) {
            return false;
        }
        let mut bucket = self.bucket.lock();
        let taken = bucket.try_take(now);
        self.empty_until
            .store(bucket.next_token_at(), Ordering::Release);
        taken
    }
}

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

    /// The first millisecond at which a token may be taken: 0 while one is
    /// there, `u64::MAX` if none ever comes (a rate of 0). Before it,
    /// [`TokenBucket::try_take`] refuses whatever `now` it is given: the
    /// refill since `last` is less than a token, and a `now` before `last`
    /// refills nothing.
    pub(crate) fn next_token_at(&self) -> u64 {
        if self.milli_tokens >= 1000 {
            return 0;
        }
        if self.rate == 0 {
            return u64::MAX;
        }
        let missing = 1000 - self.milli_tokens;
        self.last
            .as_millis()
            .saturating_add(missing.div_ceil(u64::from(self.rate)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quota and a bare bucket given the same calls — times that go
    /// forward, stand still and (as concurrent callers' do) step back —
    /// grant exactly the same ones.
    #[test]
    fn the_quota_decides_every_call_as_the_bucket_does() {
        for rate in [1, 3, 7, 10, 250] {
            let t0 = 1_000_000u64;
            let quota = Quota::new(rate, Timestamp::from_millis(t0));
            let mut bucket = TokenBucket::new(rate, Timestamp::from_millis(t0));
            let mut now = t0;
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let (mut granted, mut refused_fast) = (0, 0);
            for _ in 0..20_000 {
                // xorshift: steps of -5..=+40 ms, biased forward.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let step = (x % 46) as i64 - 5;
                now = now.saturating_add_signed(if x.is_multiple_of(8) { step } else { 0 });
                let at = Timestamp::from_millis(now);
                let fast = now < quota.empty_until.load(Ordering::Acquire);
                let expected = bucket.try_take(at);
                assert_eq!(quota.try_take(at), expected, "rate {rate} at {now}");
                granted += usize::from(expected);
                refused_fast += usize::from(fast);
            }
            assert!(
                granted > 0 && refused_fast > 0,
                "rate {rate}: both paths ran"
            );
        }
    }

    #[test]
    fn a_bucket_knows_when_its_next_token_comes() {
        let t0 = Timestamp::from_millis(1_000);
        let mut b = TokenBucket::new(4, t0);
        assert_eq!(b.next_token_at(), 0);
        for _ in 0..4 {
            assert!(b.try_take(t0));
        }
        // 4 per second: one token every 250 ms.
        assert_eq!(b.next_token_at(), 1_250);
        assert!(!b.try_take(Timestamp::from_millis(1_249)));
        assert!(b.try_take(Timestamp::from_millis(1_250)));
        assert_eq!(TokenBucket::new(0, t0).next_token_at(), u64::MAX);
    }

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
