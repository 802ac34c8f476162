//! Shared live dashboards: one computation per (tenant, pipeline, range) per tick, handed
//! to every subscriber of those arguments on this instance.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{Stream, StreamExt};
use tokio::{sync::watch, time::Instant};
use uuid::Uuid;

use super::kpi::{self, DashboardRange, Kpis};
use platform::{
    AppContext,
    error::{AppError, AppResult},
    events::follow::follow,
    tenancy::Tenant,
};

/// At most one computation per dashboard in this interval.
const TICK: Duration = Duration::from_millis(250);
/// How often an idle dashboard checks whether anyone still watches it.
const IDLE_CHECK: Duration = Duration::from_secs(1);

type Key = (Uuid, Uuid, DashboardRange);

#[derive(Clone, Default)]
pub struct Dashboards {
    live: Arc<Mutex<HashMap<Key, Arc<Live>>>>,
    computations: Arc<AtomicU64>,
}

struct Live {
    snapshot: watch::Sender<Option<Arc<Kpis>>>,
    watchers: AtomicUsize,
}

struct Watching {
    live: Arc<Live>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.live.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Dashboards {
    /// Snapshots computed by this instance so far (tests and benchmarks read it).
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }

    fn join(
        &self,
        app: &AppContext,
        tenant: &Arc<Tenant>,
        pipeline: Uuid,
        range: DashboardRange,
    ) -> AppResult<Watching> {
        let mut live = self
            .live
            .lock()
            .map_err(|_| AppError::internal("dashboard registry poisoned"))?;
        let entry = live
            .entry((tenant.id, pipeline, range))
            .or_insert_with(|| {
                let live = Arc::new(Live {
                    snapshot: watch::channel(None).0,
                    watchers: AtomicUsize::new(0),
                });
                tokio::spawn(run(
                    app.clone(),
                    self.clone(),
                    tenant.clone(),
                    pipeline,
                    range,
                    live.clone(),
                ));
                live
            })
            .clone();
        entry.watchers.fetch_add(1, Ordering::SeqCst);
        Ok(Watching { live: entry })
    }

    /// Removes a dashboard nobody watches; `true` if it was removed.
    fn retire(&self, key: Key, live: &Arc<Live>) -> bool {
        let Ok(mut all) = self.live.lock() else {
            return true;
        };
        if live.watchers.load(Ordering::SeqCst) == 0 {
            all.remove(&key);
            return true;
        }
        false
    }
}

async fn compute(
    app: &AppContext,
    dashboards: &Dashboards,
    tenant: &Tenant,
    pipeline: Uuid,
    range: DashboardRange,
) -> AppResult<Kpis> {
    let kpis = app
        .store
        .read(tenant, |conn| Box::pin(kpi::compute(conn, pipeline, range)))
        .await?;
    dashboards.computations.fetch_add(1, Ordering::Relaxed);
    Ok(kpis)
}

/// Computes the dashboard now, then again after changes, at most once per tick, until
/// nobody watches it.
async fn run(
    app: AppContext,
    dashboards: Dashboards,
    tenant: Arc<Tenant>,
    pipeline: Uuid,
    range: DashboardRange,
    live: Arc<Live>,
) {
    let key = (tenant.id, pipeline, range);
    let events = match follow(app.clone(), tenant.clone(), Vec::new(), None).await {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = ?e, "dashboard cannot follow the event log");
            dashboards.retire(key, &live);
            return;
        }
    };
    tokio::pin!(events);
    let mut last = Instant::now() - TICK;
    let mut dirty = true;
    loop {
        if dirty {
            tokio::time::sleep_until(last + TICK).await;
            last = Instant::now();
            dirty = false;
            match compute(&app, &dashboards, &tenant, pipeline, range).await {
                Ok(kpis) => {
                    live.snapshot.send_replace(Some(Arc::new(kpis)));
                }
                Err(e) => tracing::warn!(error = ?e, "dashboard computation failed"),
            }
        }
        tokio::select! {
            event = events.next() => match event {
                Some(_) => dirty = true,
                None => break,
            },
            () = tokio::time::sleep(IDLE_CHECK) => {
                if live.watchers.load(Ordering::SeqCst) == 0 && dashboards.retire(key, &live) {
                    return;
                }
            }
        }
    }
    dashboards.retire(key, &live);
}

/// The dashboard's snapshots: the current one, then each new one.
pub fn watch(
    app: &AppContext,
    tenant: &Arc<Tenant>,
    pipeline: Uuid,
    range: DashboardRange,
) -> AppResult<impl Stream<Item = Arc<Kpis>> + use<>> {
    let watching = app
        .state::<Dashboards>()?
        .join(app, tenant, pipeline, range)?;
    let receiver = watching.live.snapshot.subscribe();
    Ok(futures::stream::unfold(
        (receiver, watching, true),
        |(mut rx, watching, first)| async move {
            if first {
                let current = rx.wait_for(Option::is_some).await.ok()?.clone();
                return current.map(|kpis| (kpis, (rx, watching, false)));
            }
            rx.changed().await.ok()?;
            let current = rx.borrow_and_update().clone();
            current.map(|kpis| (kpis, (rx, watching, false)))
        },
    ))
}
