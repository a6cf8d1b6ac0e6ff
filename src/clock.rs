//! Time, passed in: the [`Clock`] trait, the [`SystemClock`] and the
//! [`ManualClock`] tests advance by hand, and the [`Timestamp`] the API shows.
//!
//! Nothing in the crate reads the system time except through a `Clock`, so
//! deletion windows, connection timing and request quotas are deterministic
//! under a `ManualClock`.

use crate::sync::{AtomicU64, Ordering};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, in milliseconds since the Unix epoch.
///
/// Serializes as the AWS JSON protocol does: epoch seconds as a number
/// (`1499288695.918`), which is also what the aws CLI shows.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Timestamp {
        Timestamp(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch, with a fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// This timestamp moved forward by `d` (saturating).
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `y-m-d` (Howard
/// Hinnant's `days_from_civil`; negative before 1970).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC date and time of `secs` since the epoch: year, month, day, hour,
/// minute, second (Hinnant's `civil_from_days`).
pub(crate) fn civil(secs: u64) -> (i64, u64, u64, u64, u64, u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month and day are 1..=12 and 1..=31 by construction.
    let (month, day) = (month.unsigned_abs(), day.unsigned_abs());
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_secs_f64())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1000) {
            s.serialize_u64(self.0 / 1000)
        } else {
            s.serialize_f64(self.as_secs_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        if !(0.0..=1.0e13).contains(&secs) {
            return Err(serde::de::Error::custom("timestamp out of range"));
        }
        Ok(Timestamp((secs * 1000.0).round() as u64))
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock, read at the kernel's tick.
///
/// On Linux it reads `CLOCK_REALTIME_COARSE`: the wall time the kernel
/// stamped at its last tick (every 1–10 ms, 4 ms on most kernels), from
/// the vDSO without a syscall or a clock-source read. A cryptographic call
/// reads the clock once, for its due timers and request quotas; the
/// precise clock costs 25–30 ns of it on a virtual machine, the coarse one
/// 5–6 ns. [`Timestamp`]s are milliseconds, deadlines are seconds to days
/// and quotas count per second, so none of them sees the tick. Elsewhere it
/// reads [`SystemTime`](std::time::SystemTime).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(system_millis())
    }
}

/// Milliseconds since the epoch, at the kernel's last tick.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn system_millis() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    // Before the epoch (a clock set wrong) reads as the epoch, as below.
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let millis = u64::try_from(t.tv_nsec / 1_000_000).unwrap_or(0);
    secs.saturating_mul(1000).saturating_add(millis)
}

/// Milliseconds since the epoch.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn system_millis() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use kms_keystore::{Clock, ManualClock, Timestamp};
/// use std::time::Duration;
/// let clock = ManualClock::new(Timestamp::from_millis(1_000));
/// clock.advance(Duration::from_secs(86_400));
/// assert_eq!(clock.now().as_millis(), 1_000 + 86_400_000);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Arc::new(AtomicU64::new(start.0)))
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            })
            .ok();
    }

    /// Sets the clock to `t` (which may be earlier than now).
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// A clock at 2023-01-01T00:00:00Z.
    fn default() -> Self {
        ManualClock::new(Timestamp::from_millis(1_672_531_200_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The precise wall clock, in milliseconds.
    fn precise_millis() -> u64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        u64::try_from(d.as_millis()).unwrap()
    }

    #[test]
    fn the_system_clock_reads_the_wall_time_within_a_kernel_tick() {
        // A tick is 1–10 ms; 50 ms leaves room for a preempted thread, and
        // a clock off by seconds (a wrong clock id, a unit slip) fails.
        for _ in 0..100 {
            let before = precise_millis();
            let now = SystemClock.now().as_millis();
            let after = precise_millis();
            assert!(
                now + 50 >= before && now <= after,
                "{before} <= {now} <= {after} (within 50 ms)"
            );
        }
    }

    #[test]
    fn the_system_clock_never_goes_back_between_reads() {
        let mut last = SystemClock.now();
        for _ in 0..10_000 {
            let now = SystemClock.now();
            assert!(now >= last, "{now:?} after {last:?}");
            last = now;
        }
    }

    #[test]
    fn timestamps_serialize_as_epoch_seconds() {
        assert_eq!(
            serde_json::to_string(&Timestamp::from_millis(1_499_288_695_918)).unwrap(),
            "1499288695.918"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp::from_millis(1_000)).unwrap(),
            "1"
        );
        let t: Timestamp = serde_json::from_str("1499288695.918").unwrap();
        assert_eq!(t.as_millis(), 1_499_288_695_918);
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::default();
        let b = a.clone();
        a.advance(Duration::from_secs(5));
        assert_eq!(a.now(), b.now());
    }
}
