//! Durable jobs and timers, per tenant.
//!
//! - [`store`]: the rows (each tenant's `jobs` table), leases with a fencing token, retries
//!   with backoff, dead jobs, an admin's retry and cancel.
//! - [`schedule`]: how a change asks for work, in its own transaction; after the commit the
//!   control plane learns that the tenant has work due ([`due`]) and workers are woken.
//! - [`JobHandler`] and [`JobRun`]: how a vertical does the work, registered with
//!   `Verticals::handle`. The job's id is the idempotency key of every attempt, and the
//!   handler's database writes commit with the job's outcome, only while its lease holds.
//! - [`worker`]: the pool in `nexo serve` and `nexo worker`, fair between tenants.

pub mod due;
mod run;
pub mod store;
pub mod worker;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

pub use run::{JobHandler, JobRun};
pub use store::{
    Handled, JobKind, JobState, Waiting, backoff, cancel, claim, complete, enqueue, enqueue_many,
    fail, find, next_due, payload, retry, take_due, waiting,
};
pub use worker::WorkerConfig;

use crate::{
    AppContext,
    error::{AppError, AppResult},
    tenancy::TenantTx,
};

/// Schedules a `K` job with `payload`, due at `due_at`, in the transaction `tx` (a
/// request's, or a running job's). It exists only if `tx` commits; then workers hear of it.
pub async fn schedule<K: JobKind>(
    app: &AppContext,
    tx: &TenantTx,
    payload: &K::Payload,
    due_at: DateTime<Utc>,
) -> AppResult<Uuid> {
    if app.jobs.handler(K::KIND).is_none() {
        return Err(AppError::internal(format!(
            "no handler is registered for {} jobs",
            K::KIND
        )));
    }
    let id = enqueue::<K, _>(tx.conn().await?, payload, due_at).await?;
    let app = app.clone();
    let tenant = tx.tenant().id;
    tx.after_commit(Box::pin(async move {
        app.jobs.due(tenant, due_at).await;
    }));
    Ok(id)
}

/// One attempt of a handler, its kind's decoding of the payload included.
type RunFn = for<'r> fn(&'r JobRun) -> BoxFuture<'r, AppResult<Value>>;

/// A registered handler: its kind, its lease and how it runs.
pub struct Handler {
    kind: &'static str,
    lease: std::time::Duration,
    run: RunFn,
}

impl Handler {
    pub fn of<H: JobHandler>() -> Self {
        fn run<H: JobHandler>(job: &JobRun) -> BoxFuture<'_, AppResult<Value>> {
            Box::pin(async move {
                let payload = payload::<H>(job.model())?;
                H::run(job, payload).await
            })
        }
        Self {
            kind: H::KIND,
            lease: H::LEASE,
            run: run::<H>,
        }
    }
}

/// What this instance counted of one kind's attempts, for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KindCounts {
    /// Attempts begun.
    pub runs: u64,
    /// Attempts that failed (retried later, or dead).
    pub failures: u64,
    /// Jobs that became dead here.
    pub dead: u64,
    /// Outcomes refused because the lease had been lost.
    pub lost_leases: u64,
}

/// The jobs service on [`AppContext`] (`app.jobs`): the handlers the verticals registered,
/// the bell that wakes this instance's workers, and what they counted.
pub struct Jobs {
    handlers: HashMap<&'static str, Handler>,
    handled: Handled,
    control: DatabaseConnection,
    /// Rung when a tenant has new work due: this instance's dispatcher.
    bell: Notify,
    /// Rung likewise, for other instances (a PostgreSQL notification).
    outward: Notify,
    counts: Mutex<BTreeMap<&'static str, KindCounts>>,
}

impl Jobs {
    pub fn new(handlers: Vec<Handler>, control: DatabaseConnection) -> Self {
        let mut handled = Handled::none();
        for handler in &handlers {
            let lease = chrono::Duration::from_std(handler.lease)
                .unwrap_or_else(|_| chrono::Duration::minutes(1));
            handled = handled.with(handler.kind, lease);
        }
        Self {
            handlers: handlers.into_iter().map(|h| (h.kind, h)).collect(),
            handled,
            control,
            bell: Notify::new(),
            outward: Notify::new(),
            counts: Mutex::default(),
        }
    }

    pub fn handler(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind)
    }

    /// The kinds this instance's workers take, with their leases.
    pub fn handled(&self) -> &Handled {
        &self.handled
    }

    /// Records in the control plane that `tenant` has work due at `due_at` (after the
    /// commit that made it), and wakes the workers here and elsewhere. A failure here is
    /// logged: the workers' sweep finds the work later.
    pub async fn due(&self, tenant: Uuid, due_at: DateTime<Utc>) {
        if let Err(e) = due::mark(&self.control, tenant, due_at).await {
            tracing::warn!(%tenant, error = ?e, "could not record a tenant's due work; the sweep will find it");
        }
        self.bell.notify_one();
        self.outward.notify_one();
    }

    /// Another instance recorded due work.
    pub fn heard_elsewhere(&self) {
        self.bell.notify_one();
    }

    /// Resolves when this instance recorded due work, for telling other instances.
    pub async fn recorded_here(&self) {
        self.outward.notified().await;
    }

    pub(crate) async fn rung(&self) {
        self.bell.notified().await;
    }

    pub(crate) fn count(&self, kind: &str, count: impl FnOnce(&mut KindCounts)) {
        let kind = self
            .handlers
            .get_key_value(kind)
            .map_or("unknown", |(k, _)| k);
        if let Ok(mut counts) = self.counts.lock() {
            count(counts.entry(kind).or_default());
        }
    }

    /// Every kind with a handler here.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.handlers.keys().copied()
    }

    /// This instance's counts, by kind.
    pub fn counts(&self) -> BTreeMap<&'static str, KindCounts> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Tenants looked inside for [`waiting_now`]: the ones waiting longest.
const WAITING_TENANTS_SCANNED: u64 = 100;

/// Jobs past their due time and not yet taken, by kind: how many, and the oldest due time.
/// Read from the tenants whose control-plane row is due (idle tenants are not asked), the
/// longest waiting first, at most [`WAITING_TENANTS_SCANNED`] of them.
pub async fn waiting_now(app: &AppContext) -> AppResult<BTreeMap<String, (i64, DateTime<Utc>)>> {
    let now = Utc::now();
    let mut by_kind: BTreeMap<String, (i64, DateTime<Utc>)> = BTreeMap::new();
    for due in due::earliest(app.store.control_unmetered(), WAITING_TENANTS_SCANNED).await? {
        if due.due_at > now {
            break;
        }
        let waiting = app
            .store
            .read(&due.tenant, |tx| Box::pin(waiting(tx, now)))
            .await;
        let Ok(waiting) = waiting else {
            continue;
        };
        for Waiting {
            kind,
            queued,
            oldest_due,
        } in waiting
        {
            let entry = by_kind.entry(kind).or_insert((0, oldest_due));
            entry.0 += queued;
            entry.1 = entry.1.min(oldest_due);
        }
    }
    Ok(by_kind)
}
