//! Following a tenant's log: replay from a cursor, then live, with no gap and no duplicate.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use entity::tenant::event;
use futures::Stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{bus::Wake, log};
use crate::{
    AppContext,
    error::AppResult,
    tenancy::{Tenant, TxMode},
};

/// How often a follower looks at the log when no wake-up came: a lost wake-up delays an
/// event by at most this, never loses it.
const SAFETY_POLL: Duration = Duration::from_secs(1);
const PAGE: u64 = 500;

struct Follower {
    app: AppContext,
    tenant: Arc<Tenant>,
    types: Vec<String>,
    cursor: i64,
    wakes: Receiver<Wake>,
    buffer: VecDeque<event::Model>,
}

/// The tenant's events after `after` (or, without it, from now on), then each new one as
/// it commits.
pub async fn follow(
    app: AppContext,
    tenant: Arc<Tenant>,
    types: Vec<String>,
    after: Option<i64>,
) -> AppResult<impl Stream<Item = AppResult<event::Model>>> {
    // Subscribe before reading the head: a commit in between is then both seen and woken.
    let wakes = app.events.subscribe();
    let cursor = match after {
        Some(after) => after,
        None => read(&app, &tenant, |conn| Box::pin(log::head(conn))).await?,
    };
    let follower = Follower {
        app,
        tenant,
        types,
        cursor,
        wakes,
        buffer: VecDeque::new(),
    };
    Ok(futures::stream::unfold(follower, |mut f| async move {
        loop {
            if let Some(event) = f.buffer.pop_front() {
                f.cursor = event.seq.unwrap_or(f.cursor);
                return Some((Ok(event), f));
            }
            let (cursor, types) = (f.cursor, f.types.clone());
            let page = read(&f.app, &f.tenant, move |conn| {
                Box::pin(async move { log::read_after(conn, cursor, &types, PAGE).await })
            })
            .await;
            match page {
                Err(e) => return Some((Err(e), f)),
                Ok(rows) if !rows.is_empty() => f.buffer.extend(rows),
                Ok(_) => {
                    if !f.wait().await {
                        return None;
                    }
                }
            }
        }
    }))
}

impl Follower {
    /// Waits until this tenant's log may have grown past the cursor; `false` when the
    /// instance shuts its bus down.
    async fn wait(&mut self) -> bool {
        let deadline = tokio::time::sleep(SAFETY_POLL);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                wake = self.wakes.recv() => match wake {
                    Ok(wake) if wake.tenant_id == self.tenant.id && wake.head > self.cursor => return true,
                    Ok(_) => {}
                    // Missed wake-ups: read the log to find out.
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                },
                () = &mut deadline => return true,
            }
        }
    }
}

/// Runs a read in a short transaction of its own on the tenant.
async fn read<T>(
    app: &AppContext,
    tenant: &Tenant,
    work: impl for<'t> FnOnce(
        &'t sea_orm::DatabaseTransaction,
    ) -> futures::future::BoxFuture<'t, AppResult<T>>,
) -> AppResult<T> {
    let tx = app.store.begin_tenant(&tenant.slug, TxMode::Read).await?;
    let value = work(&tx).await?;
    tx.commit().await?;
    Ok(value)
}
