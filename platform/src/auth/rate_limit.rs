//! Slows and then refuses repeated failed sign-ins, per email and per client address within
//! a scope (a tenant, or the platform admin API). Counters live in this instance's memory
//! for a window. An attempt is counted before its password is checked, atomically, so
//! concurrent attempts cannot all pass the check; a successful sign-in takes its attempt
//! back and clears the email's counter.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use moka::sync::Cache;

use crate::error::{AppError, AppResult};

const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures after which each further attempt waits a little longer.
const SLOW_AFTER: u32 = 3;
const EMAIL_LOCK_AFTER: u32 = 10;
const ADDRESS_LOCK_AFTER: u32 = 50;
const STEP_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(2);

pub struct LoginLimiter {
    attempts: Cache<String, Arc<AtomicU32>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            attempts: Cache::builder()
                .time_to_live(WINDOW)
                .max_capacity(1_000_000)
                .build(),
        }
    }
}

/// A counted sign-in attempt; tell it how the password check went.
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    email: String,
    address: String,
}

impl Attempt<'_> {
    /// The right password: this attempt was no failure, and the email starts afresh.
    pub fn succeeded(self) {
        self.limiter.attempts.invalidate(&self.email);
        if let Some(count) = self.limiter.attempts.get(&self.address) {
            let _ = count.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
    }
}

impl LoginLimiter {
    /// Counts an attempt before its password is checked: refuses it once the email or the
    /// address has too many, and delays it after a few.
    pub async fn attempt(
        &self,
        scope: &str,
        email: &str,
        client: IpAddr,
    ) -> AppResult<Attempt<'_>> {
        let attempt = Attempt {
            limiter: self,
            email: format!("email:{scope}:{}", email.trim().to_lowercase()),
            address: format!("addr:{scope}:{client}"),
        };
        let by_email = self.count(&attempt.email);
        let by_address = self.count(&attempt.address);
        if by_email >= EMAIL_LOCK_AFTER || by_address >= ADDRESS_LOCK_AFTER {
            return Err(AppError::RateLimited {
                retry_after_secs: WINDOW.as_secs(),
            });
        }
        let over = by_email.max(by_address / 5).saturating_sub(SLOW_AFTER);
        if over > 0 {
            tokio::time::sleep((STEP_DELAY * over).min(MAX_DELAY)).await;
        }
        Ok(attempt)
    }

    /// Adds one to `key`'s attempts; returns how many there were before.
    fn count(&self, key: &str) -> u32 {
        self.attempts
            .get_with_by_ref(key, || Arc::new(AtomicU32::new(0)))
            .fetch_add(1, Ordering::SeqCst)
    }
}
