//! Slows and then refuses repeated failed sign-ins, per email (in a tenant) and per client
//! address. Counters live in this instance's memory for a window; a successful sign-in
//! clears the email's counter.

use std::{net::IpAddr, time::Duration};

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
    failures: Cache<String, u32>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            failures: Cache::builder()
                .time_to_live(WINDOW)
                .max_capacity(1_000_000)
                .build(),
        }
    }
}

impl LoginLimiter {
    /// Call before checking a password: refuses locked keys, and delays after a few failures.
    pub async fn before_attempt(&self, scope: &str, email: &str, client: IpAddr) -> AppResult<()> {
        let by_email = self.failures.get(&email_key(scope, email)).unwrap_or(0);
        let by_address = self.failures.get(&address_key(client)).unwrap_or(0);
        if by_email >= EMAIL_LOCK_AFTER || by_address >= ADDRESS_LOCK_AFTER {
            return Err(AppError::RateLimited {
                retry_after_secs: WINDOW.as_secs(),
            });
        }
        let over = by_email.max(by_address / 5).saturating_sub(SLOW_AFTER);
        if over > 0 {
            tokio::time::sleep((STEP_DELAY * over).min(MAX_DELAY)).await;
        }
        Ok(())
    }

    pub fn record_failure(&self, scope: &str, email: &str, client: IpAddr) {
        for key in [email_key(scope, email), address_key(client)] {
            let count = self.failures.get(&key).unwrap_or(0);
            self.failures.insert(key, count.saturating_add(1));
        }
    }

    pub fn record_success(&self, scope: &str, email: &str) {
        self.failures.invalidate(&email_key(scope, email));
    }
}

fn email_key(scope: &str, email: &str) -> String {
    format!("email:{scope}:{}", email.trim().to_lowercase())
}

fn address_key(client: IpAddr) -> String {
    format!("addr:{client}")
}
