//! The worker pool of a Nexo process (`nexo serve`, or `nexo worker` without HTTP).
//!
//! One dispatcher per process reads the control plane's earliest due tenants in one query
//! ([`super::due`]), and hands its free slots out among those tenants in turn: the tenant
//! served longest ago goes first, and no tenant holds more than its share of slots at once,
//! so one tenant's hundred thousand queued jobs do not delay another's few. It sleeps until
//! the earliest due time it read, or until a commit here or elsewhere rings its bell:
//! nothing is asked of idle tenants.

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use entity::tenant::job;
use futures::FutureExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::{
    JobRun, JobState,
    due::{self, DueTenant},
    store,
};
use crate::{
    AppContext,
    error::{AppError, AppResult},
    tenancy::{Tenant, TxMode},
};

/// How this process's workers run.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// `NEXO_JOB_WORKERS`, default 8: jobs this process runs at once (0: none, and
    /// `nexo serve` serves HTTP alone).
    pub workers: usize,
    /// `NEXO_JOB_TENANT_CONCURRENCY`, default 4: jobs of one tenant this process runs at
    /// once.
    pub per_tenant: usize,
    /// `NEXO_JOB_SWEEP_SECS`, default 900: how often every tenant is looked at for work
    /// whose control-plane mark a crash lost (they are looked at when workers start too;
    /// 0: only then).
    pub sweep_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            per_tenant: 4,
            sweep_interval: Duration::from_secs(900),
        }
    }
}

/// Jobs leased from one tenant at a time.
const BATCH: usize = 32;
/// Due tenants read in one pass.
const LISTING: u64 = 256;
/// The longest the dispatcher sleeps with nothing due and no bell, on PostgreSQL, where
/// other instances ring it with a notification.
const IDLE_WAIT: Duration = Duration::from_secs(60);
/// The same on SQLite, which tells no other process of a commit: a `nexo worker` beside
/// `nexo serve` on the same files looks this often.
const IDLE_WAIT_SQLITE: Duration = Duration::from_secs(1);
/// The wait before reading the control plane again after a failed read.
const RETRY_READ: Duration = Duration::from_secs(1);
/// The pause after a pass in which due tenants gave no job (other workers took them).
const EMPTY_PASS_PAUSE: Duration = Duration::from_millis(100);
/// How long a tenant whose due work is all of kinds this process has no handler for (a
/// newer version's, during a rolling upgrade) is passed over, unless new work is marked.
const PASS_OVER: Duration = Duration::from_secs(30);

/// Starts this process's workers, unless configured to have none.
pub fn start(app: &AppContext) -> Option<tokio::task::JoinHandle<()>> {
    let config = app.config.jobs.clone();
    if config.workers == 0 {
        return None;
    }
    let dispatcher = Dispatcher {
        app: app.clone(),
        slots: Arc::new(Semaphore::new(config.workers)),
        per_tenant: config.per_tenant.clamp(1, config.workers),
        sweep_interval: config.sweep_interval,
        running: Arc::default(),
        finished: Arc::default(),
        served: HashMap::new(),
        passed_over: HashMap::new(),
        turn: 0,
    };
    Some(tokio::spawn(dispatcher.run()))
}

struct Dispatcher {
    app: AppContext,
    slots: Arc<Semaphore>,
    per_tenant: usize,
    sweep_interval: Duration,
    /// Jobs running now, by tenant.
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
    finished: Arc<Notify>,
    /// The turn at which each tenant was last served.
    served: HashMap<Uuid, u64>,
    /// Tenants with due work none of which this process handles: their row's version then.
    passed_over: HashMap<Uuid, (i64, tokio::time::Instant)>,
    turn: u64,
}

impl Dispatcher {
    async fn run(mut self) {
        tokio::spawn(sweep(self.app.clone()));
        let mut next_sweep = (!self.sweep_interval.is_zero())
            .then(|| tokio::time::Instant::now() + self.sweep_interval);
        loop {
            if self.slots.available_permits() == 0 {
                self.finished.notified().await;
                continue;
            }
            let now = Utc::now();
            let (listing, unread) = match due::earliest(self.app.store.control(), LISTING).await {
                Ok(listing) => (listing, false),
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot read the tenants with due jobs; retrying");
                    (Vec::new(), true)
                }
            };
            self.passed_over
                .retain(|_, (_, since)| since.elapsed() < PASS_OVER);
            let ready: Vec<&DueTenant> = listing
                .iter()
                .filter(|due| {
                    due.due_at <= now
                        && self.running_in(due.tenant.id) < self.per_tenant
                        && self.passed_over.get(&due.tenant.id).map(|(v, _)| *v)
                            != Some(due.version)
                })
                .collect();
            let any_ready = !ready.is_empty();
            if any_ready && self.serve(ready).await > 0 {
                continue;
            }
            let next_due = listing
                .iter()
                .map(|due| due.due_at)
                .filter(|at| *at > now)
                .min();
            let idle_wait = if self.app.store.is_postgres() {
                IDLE_WAIT
            } else {
                IDLE_WAIT_SQLITE
            };
            let mut wait = next_due
                .and_then(|at| (at - now).to_std().ok())
                .unwrap_or(idle_wait)
                .min(idle_wait);
            if unread {
                wait = wait.min(RETRY_READ);
            }
            if any_ready {
                wait = wait.min(EMPTY_PASS_PAUSE);
            }
            if let Some(at) = next_sweep {
                wait = wait.min(at.saturating_duration_since(tokio::time::Instant::now()));
            }
            tokio::select! {
                () = self.app.jobs.rung() => {}
                () = self.finished.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
            if let Some(at) = next_sweep
                && tokio::time::Instant::now() >= at
            {
                tokio::spawn(sweep(self.app.clone()));
                next_sweep = Some(at + self.sweep_interval);
            }
        }
    }

    fn running_in(&self, tenant: Uuid) -> usize {
        self.running
            .lock()
            .map(|running| running.get(&tenant).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Leases jobs from the ready tenants, the one served longest ago first, within the
    /// free slots and each tenant's share; returns how many started.
    async fn serve(&mut self, mut ready: Vec<&DueTenant>) -> usize {
        ready.sort_by_key(|due| (self.served.get(&due.tenant.id).copied(), due.due_at));
        let mut started = 0;
        for due in ready {
            let free = self.slots.available_permits();
            if free == 0 {
                break;
            }
            let want = free
                .min(
                    self.per_tenant
                        .saturating_sub(self.running_in(due.tenant.id)),
                )
                .min(BATCH);
            if want == 0 {
                continue;
            }
            self.turn += 1;
            self.served.insert(due.tenant.id, self.turn);
            let tenant = Arc::new(due.tenant.clone());
            let taken = match self.take(&tenant, want).await {
                Ok(taken) => taken,
                Err(AppError::TenantNotFound) => {
                    // Deleted since it was read: its row went with it, or goes now.
                    let _ = due::settle(self.app.store.control(), due, None).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, error = ?e, "cannot take a tenant's due jobs");
                    continue;
                }
            };
            if taken.len() < want {
                self.settle(due, taken.is_empty()).await;
            }
            for job in taken {
                let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                    break;
                };
                let running = RunningJob::start(&self.running, tenant.id, &self.finished, slot);
                tokio::spawn(execute(self.app.clone(), tenant.clone(), job, running));
                started += 1;
            }
        }
        started
    }

    async fn take(&self, tenant: &Tenant, want: usize) -> AppResult<Vec<job::Model>> {
        let tx = self.app.store.begin_tenant(tenant, TxMode::Write).await?;
        let taken = store::take_due(&tx, Utc::now(), self.app.jobs.handled(), want as u64).await?;
        tx.commit().await?;
        Ok(taken)
    }

    /// Moves the tenant's control-plane row to what is left inside it. When it gave this
    /// process nothing (`gave_nothing`) yet still has work due, that work is of kinds other
    /// processes handle: the tenant is passed over until new work is marked.
    async fn settle(&mut self, due: &DueTenant, gave_nothing: bool) {
        let settled = async {
            let next = due::look_inside(&self.app.store, &due.tenant).await?;
            let version = due::settle(self.app.store.control(), due, next).await?;
            Ok::<_, AppError>((next, version))
        };
        match settled.await {
            Ok((Some(next), Some(version))) if gave_nothing && next <= Utc::now() => {
                self.passed_over
                    .insert(due.tenant.id, (version, tokio::time::Instant::now()));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(tenant = %due.tenant.slug, error = ?e, "cannot settle a tenant's due work");
            }
        }
    }
}

/// A job holding a slot; gives the slot back and tells the dispatcher when it ends, however
/// it ends.
struct RunningJob {
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
    tenant: Uuid,
    finished: Arc<Notify>,
    slot: Option<OwnedSemaphorePermit>,
}

impl RunningJob {
    fn start(
        running: &Arc<Mutex<HashMap<Uuid, usize>>>,
        tenant: Uuid,
        finished: &Arc<Notify>,
        slot: OwnedSemaphorePermit,
    ) -> Self {
        if let Ok(mut running) = running.lock() {
            *running.entry(tenant).or_default() += 1;
        }
        Self {
            running: running.clone(),
            tenant,
            finished: finished.clone(),
            slot: Some(slot),
        }
    }
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock()
            && let Some(count) = running.get_mut(&self.tenant)
        {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.tenant);
            }
        }
        // The slot is free before the dispatcher looks.
        drop(self.slot.take());
        self.finished.notify_one();
    }
}

/// Runs one attempt and records its outcome.
async fn execute(app: AppContext, tenant: Arc<Tenant>, job: job::Model, _running: RunningJob) {
    let (id, kind) = (job.id, job.kind.clone());
    app.jobs.count(&kind, |counts| counts.runs += 1);
    if job.attempts > job.max_attempts {
        // Taken over after its last attempt's lease ran out: that worker died or stalled.
        let error = "no outcome within the lease of its last attempt";
        return record_failure(&app, &tenant, &job, error).await;
    }
    let Some(handler) = app.jobs.handler(&kind) else {
        return record_failure(&app, &tenant, &job, "no handler for this kind").await;
    };
    let lease = handler.lease;
    let run = JobRun::new(app.clone(), tenant.clone(), job.clone());
    let attempt_run = AssertUnwindSafe(tokio::time::timeout(lease, (handler.run)(&run)));
    let error = match attempt_run.catch_unwind().await {
        Ok(Ok(Ok(result))) => match run.complete(result).await {
            Ok(()) => return,
            Err(AppError::Conflict(_)) => return lost_lease(&app, &tenant, id, &kind),
            Err(e) => format!("its outcome could not be recorded: {}", e.message()),
        },
        Ok(Ok(Err(AppError::Conflict(_)))) if run.lost_its_lease() => {
            return lost_lease(&app, &tenant, id, &kind);
        }
        Ok(Ok(Err(e))) => e.message(),
        Ok(Err(_)) => format!("no outcome within its lease of {lease:?}"),
        Err(_) => "the handler panicked".to_owned(),
    };
    record_failure(&app, &tenant, &job, &error).await;
}

fn lost_lease(app: &AppContext, tenant: &Tenant, id: Uuid, kind: &str) {
    app.jobs.count(kind, |counts| counts.lost_leases += 1);
    tracing::info!(tenant = %tenant.slug, job = %id, kind, "the job's lease was lost; its outcome is not recorded");
}

/// Records a failed attempt: queued again after its backoff, or dead.
async fn record_failure(app: &AppContext, tenant: &Arc<Tenant>, job: &job::Model, error: &str) {
    let now = Utc::now();
    let recorded = async {
        let tx = app.store.begin_tenant(tenant, TxMode::Write).await?;
        let failed = store::fail(&tx, job.id, job.fence, error, now).await?;
        tx.commit().await?;
        Ok::<_, AppError>(failed)
    };
    match recorded.await {
        Ok(failed) => {
            app.jobs.count(&job.kind, |counts| counts.failures += 1);
            tracing::warn!(tenant = %tenant.slug, job = %job.id, kind = %job.kind, attempt = job.attempts, error, "a job's attempt failed");
            if JobState::from_stored(&failed.state).ok() == Some(JobState::Dead) {
                app.jobs.count(&job.kind, |counts| counts.dead += 1);
            } else {
                app.jobs.due(tenant.id, failed.due_at).await;
            }
        }
        Err(AppError::Conflict(_)) => lost_lease(app, tenant, job.id, &job.kind),
        Err(e) => {
            // The lease runs out and another attempt is made then.
            tracing::warn!(tenant = %tenant.slug, job = %job.id, error = ?e, "cannot record a job's failure");
        }
    }
}

/// Marks every live tenant that has queued or leased jobs: what a crash between a tenant's
/// commit and its mark left unmarked.
async fn sweep(app: AppContext) {
    let registry = crate::tenancy::Registry::new(app.store.control().clone());
    let tenants = match registry.all_live().await {
        Ok(tenants) => tenants,
        Err(e) => {
            tracing::warn!(error = ?e, "the jobs sweep cannot list tenants");
            return;
        }
    };
    let mut marked = 0;
    for tenant in tenants {
        match due::look_inside(&app.store, &tenant).await {
            Ok(Some(next)) => {
                app.jobs.due(tenant.id, next).await;
                marked += 1;
            }
            Ok(None) => {}
            // Deleted meanwhile, or not migrated yet.
            Err(e) => {
                tracing::debug!(tenant = %tenant.slug, error = ?e, "the jobs sweep skipped a tenant")
            }
        }
    }
    tracing::debug!(marked, "jobs sweep done");
}
