//! [`TenantTx`]: the request's one transaction on its tenant's data.
//!
//! It begins on first use, so a request refused by validation or auth runs no SQL at all.
//! Resolvers borrow it through the request data; dataloaders hold only a [`std::sync::Weak`]
//! to it, so when execution ends the handler owns it alone and can commit it.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use tokio::sync::OnceCell;

use super::{Store, Tenant};
use crate::error::{AppError, AppResult};
use crate::events::bus::EventBus;

/// Whether the operation may write. SQLite takes its write lock up front for writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    Read,
    Write,
}

pub struct TenantTx {
    store: Store,
    bus: Option<EventBus>,
    tenant: Arc<Tenant>,
    mode: TxMode,
    /// Whether each top-level mutation field runs in its own savepoint (more than one in
    /// the operation); with a single one, a failure rolls back the whole transaction.
    savepoints: bool,
    failed_mutation: AtomicBool,
    keep_on_error: AtomicBool,
    after_commit: std::sync::Mutex<Vec<futures::future::BoxFuture<'static, ()>>>,
    tx: OnceCell<DatabaseTransaction>,
}

impl TenantTx {
    pub fn new(store: Store, tenant: Arc<Tenant>, mode: TxMode, savepoints: bool) -> Self {
        Self {
            store,
            bus: None,
            tenant,
            mode,
            savepoints,
            failed_mutation: AtomicBool::new(false),
            keep_on_error: AtomicBool::new(false),
            after_commit: Default::default(),
            tx: OnceCell::new(),
        }
    }

    /// Wakes `bus`'s subscribers when this transaction commits events.
    pub fn waking(mut self, bus: EventBus) -> Self {
        self.bus = Some(bus);
        self
    }

    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The transaction, begun on first call.
    pub async fn conn(&self) -> AppResult<&DatabaseTransaction> {
        self.tx
            .get_or_try_init(|| self.store.begin_tenant(&self.tenant, self.mode))
            .await
    }

    /// Whether the transaction has begun.
    pub fn is_open(&self) -> bool {
        self.tx.initialized()
    }

    pub(crate) fn uses_savepoints(&self) -> bool {
        self.savepoints
    }

    /// Records that a top-level mutation field failed; without savepoints that rolls back
    /// the whole transaction at the end.
    pub(crate) fn mark_mutation_failed(&self) {
        self.failed_mutation.store(true, Ordering::Relaxed);
    }

    /// Runs `hook` once the transaction has committed, before the response is sent (never
    /// if it rolls back).
    pub fn after_commit(&self, hook: futures::future::BoxFuture<'static, ()>) {
        if let Ok(mut hooks) = self.after_commit.lock() {
            hooks.push(hook);
        }
    }

    /// Keeps what the current mutation wrote even though it fails: a refresh token
    /// presented twice revokes its family and is then refused, and the revocation must stay.
    pub fn keep_work_on_error(&self) {
        self.keep_on_error.store(true, Ordering::Relaxed);
    }

    pub(crate) fn keeps_work_on_error(&self) -> bool {
        self.keep_on_error.load(Ordering::Relaxed)
    }

    pub(crate) async fn savepoint(&self, name: &str) -> AppResult<()> {
        self.keep_on_error.store(false, Ordering::Relaxed);
        self.conn()
            .await?
            .execute_unprepared(&format!("SAVEPOINT {name}"))
            .await?;
        Ok(())
    }

    pub(crate) async fn release_savepoint(&self, name: &str, rollback: bool) -> AppResult<()> {
        let conn = self.conn().await?;
        if rollback {
            conn.execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {name}"))
                .await?;
        }
        conn.execute_unprepared(&format!("RELEASE SAVEPOINT {name}"))
            .await?;
        Ok(())
    }

    /// Commits what the request did (or rolls it back if its only mutation failed).
    /// Returns whether anything was committed.
    pub async fn finish(self) -> AppResult<bool> {
        let rollback = !self.savepoints
            && self.failed_mutation.load(Ordering::Relaxed)
            && !self.keeps_work_on_error();
        let Some(tx) = self.tx.into_inner() else {
            return Ok(false);
        };
        if rollback {
            tx.rollback().await?;
            Ok(false)
        } else {
            let numbered = match self.mode {
                TxMode::Write => crate::events::log::number_pending(&tx).await?,
                TxMode::Read => None,
            };
            tx.commit().await?;
            // Hooks before the wake-up: an access change is known before the events
            // committed with it are handed to subscribers.
            let hooks = match self.after_commit.lock() {
                Ok(mut hooks) => std::mem::take(&mut *hooks),
                Err(_) => Vec::new(),
            };
            for hook in hooks {
                hook.await;
            }
            if let (Some((_, head)), Some(bus)) = (numbered, &self.bus) {
                bus.wake(self.tenant.id, head);
            }
            Ok(true)
        }
    }

    /// Finishes a transaction shared with the request's resolvers; they must all be done.
    pub async fn finish_shared(tx: Arc<Self>) -> AppResult<bool> {
        match Arc::try_unwrap(tx) {
            Ok(tx) => tx.finish().await,
            Err(_) => Err(AppError::internal(
                "tenant transaction still referenced after execution; rolled back",
            )),
        }
    }
}

impl TenantTx {
    /// Runs `work` in its own write transaction on the tenant, outside any request (CLI,
    /// seeding, background jobs), committing when it succeeds.
    pub async fn run<T, F>(store: &Store, tenant: Arc<Tenant>, work: F) -> AppResult<T>
    where
        F: for<'t> FnOnce(&'t DatabaseTransaction) -> futures::future::BoxFuture<'t, AppResult<T>>,
    {
        let tx = store.begin_tenant(&tenant, TxMode::Write).await?;
        let value = work(&tx).await?;
        crate::events::log::number_pending(&tx).await?;
        tx.commit().await?;
        Ok(value)
    }
}
