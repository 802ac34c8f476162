//! How a vertical does a job's work.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use entity::tenant::job;
use sea_orm::DatabaseTransaction;
use serde_json::Value;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{JobKind, store};
use crate::{
    AppContext,
    error::{AppError, AppResult},
    outbound::OutboundClient,
    tenancy::{Tenant, TenantTx},
};

/// The work of a kind of job, registered with `Verticals::handle::<Self>()`.
///
/// A job runs at least once: a worker can stop after the work and before its outcome is
/// recorded, and another then runs it again. [`JobRun`] makes the safe way the easy one:
/// the handler's database writes ([`JobRun::conn`]) commit in one transaction with the
/// job's outcome, and only while the worker still holds the job, so they happen exactly
/// once; a call to the outside world comes first, with no transaction open, and carries
/// [`JobRun::id`] as its idempotency key so the other side can tell a repeat.
pub trait JobHandler: JobKind + Send + Sync + 'static {
    /// One attempt. `Ok` is the job's result; `Err` fails the attempt (retried after a
    /// backoff, dead once the kind's attempts are spent), and nothing it wrote stays.
    fn run(run: &JobRun, payload: Self::Payload) -> impl Future<Output = AppResult<Value>> + Send;
}

/// One attempt at a job, as its handler sees it.
pub struct JobRun {
    app: AppContext,
    job: job::Model,
    tx: TenantTx,
    claimed: OnceCell<()>,
    lost: AtomicBool,
}

impl JobRun {
    pub(crate) fn new(app: AppContext, tenant: std::sync::Arc<Tenant>, job: job::Model) -> Self {
        let tx = TenantTx::new(
            app.store.clone(),
            tenant,
            crate::tenancy::TxMode::Write,
            false,
        )
        .waking(app.events.clone());
        Self {
            app,
            job,
            tx,
            claimed: OnceCell::new(),
            lost: AtomicBool::new(false),
        }
    }

    /// The job's id: the same on every attempt, the idempotency key of its side effects.
    pub fn id(&self) -> Uuid {
        self.job.id
    }

    /// Which attempt this is, from 1.
    pub fn attempt(&self) -> i32 {
        self.job.attempts
    }

    pub fn tenant(&self) -> &Tenant {
        self.tx.tenant()
    }

    pub fn app(&self) -> &AppContext {
        &self.app
    }

    pub(crate) fn model(&self) -> &job::Model {
        &self.job
    }

    /// The attempt's transaction on the tenant, begun on first use by checking that this
    /// worker still holds the job. What is written here commits with the job's outcome.
    pub async fn conn(&self) -> AppResult<&DatabaseTransaction> {
        let conn = self.tx.conn().await?;
        let claimed = self
            .claimed
            .get_or_try_init(|| store::claim(conn, self.job.id, self.job.fence, Utc::now()))
            .await;
        if let Err(AppError::Conflict(_)) = claimed {
            self.lost.store(true, Ordering::Relaxed);
        }
        claimed?;
        Ok(conn)
    }

    /// Whether another worker has taken the job over from this attempt.
    pub(crate) fn lost_its_lease(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// The client for calls to the outside world, refused once the attempt's transaction
    /// is open: no transaction is held while another system answers.
    pub fn outbound(&self) -> AppResult<&OutboundClient> {
        if self.tx.is_open() {
            return Err(AppError::internal(
                "an outbound call was attempted with the job's transaction open",
            ));
        }
        Ok(&self.app.outbound)
    }

    /// Schedules a `K` job in the attempt's transaction: it exists only if this attempt
    /// succeeds.
    pub async fn schedule<K: JobKind>(
        &self,
        payload: &K::Payload,
        due_at: DateTime<Utc>,
    ) -> AppResult<Uuid> {
        self.conn().await?;
        super::schedule::<K>(&self.app, &self.tx, payload, due_at).await
    }

    /// Records success with `result`, with whatever the handler wrote, and commits.
    pub(crate) async fn complete(self, result: Value) -> AppResult<()> {
        let conn = self.conn().await?;
        store::complete(conn, self.job.id, self.job.fence, result, Utc::now()).await?;
        self.tx.finish().await?;
        Ok(())
    }
}
