//! Following a tenant's log: replay from a cursor, then live, with no gap and no duplicate.
//!
//! Each instance keeps one feed per tenant that has live subscribers: a task that reads the
//! new events once, after a wake-up or at the latest every second, and hands the same rows
//! to every subscriber of that tenant. A subscriber reads the log itself only to replay
//! from an old cursor or to catch up after it fell behind the feed; idle tenants cost
//! nothing.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use entity::tenant::event;
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::log;
use crate::{AppContext, error::AppResult, tenancy::Tenant};

/// A feed looks at its tenant's log at least this often: a lost wake-up delays an event by
/// at most this, never loses it.
const SAFETY_POLL: Duration = Duration::from_secs(1);
const PAGE: u64 = 500;
/// Events a feed keeps for subscribers that are behind; further behind, they catch up
/// from the log.
const FEED_BUFFER: usize = 1024;

/// This instance's feeds, one per tenant with subscribers.
#[derive(Clone, Default)]
pub struct Feeds {
    feeds: Arc<Mutex<HashMap<Uuid, Arc<Feed>>>>,
}

struct Feed {
    sender: broadcast::Sender<Arc<event::Model>>,
    /// The last event handed out.
    head: AtomicI64,
    subscribers: AtomicUsize,
}

/// Keeps a feed alive while a subscriber holds it.
struct Subscribed {
    feed: Arc<Feed>,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.feed.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Feeds {
    /// Tenants followed on this instance.
    pub fn len(&self) -> usize {
        self.feeds.lock().map(|f| f.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tenant's feed, started if it was not running. The subscriber is counted under
    /// the registry lock, where a feed also decides to stop: a feed never stops with a
    /// subscriber that has just joined.
    async fn join(&self, app: &AppContext, tenant: &Arc<Tenant>) -> AppResult<Subscribed> {
        let poisoned = || crate::error::AppError::internal("feed registry poisoned");
        {
            let feeds = self.feeds.lock().map_err(|_| poisoned())?;
            if let Some(feed) = feeds.get(&tenant.id) {
                feed.subscribers.fetch_add(1, Ordering::SeqCst);
                return Ok(Subscribed { feed: feed.clone() });
            }
        }
        let head = app
            .store
            .read(tenant, |conn| Box::pin(log::head(conn)))
            .await?;
        let mut feeds = self.feeds.lock().map_err(|_| poisoned())?;
        let feed = feeds
            .entry(tenant.id)
            .or_insert_with(|| {
                let feed = Arc::new(Feed {
                    sender: broadcast::channel(FEED_BUFFER).0,
                    head: AtomicI64::new(head),
                    subscribers: AtomicUsize::new(0),
                });
                tokio::spawn(run_feed(app.clone(), tenant.clone(), feed.clone()));
                feed
            })
            .clone();
        feed.subscribers.fetch_add(1, Ordering::SeqCst);
        Ok(Subscribed { feed })
    }
}

/// A tenant's feed: reads what was committed after its head whenever woken (or every
/// second) and hands it out; stops once its last subscriber left.
async fn run_feed(app: AppContext, tenant: Arc<Tenant>, feed: Arc<Feed>) {
    let mut wakes = app.events.subscribe();
    loop {
        let woken = tokio::time::timeout(SAFETY_POLL, async {
            loop {
                match wakes.recv().await {
                    Ok(wake) if wake.tenant_id == tenant.id => return true,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                }
            }
        })
        .await;
        if woken == Ok(false) {
            break;
        }
        if feed.subscribers.load(Ordering::SeqCst) == 0 {
            let mut feeds = match app.feeds.feeds.lock() {
                Ok(feeds) => feeds,
                Err(_) => break,
            };
            // Checked again under the registry lock: nobody can join meanwhile.
            if feed.subscribers.load(Ordering::SeqCst) == 0 {
                feeds.remove(&tenant.id);
                break;
            }
        }
        loop {
            let after = feed.head.load(Ordering::SeqCst);
            let rows = match app
                .store
                .read(&tenant, move |conn| {
                    Box::pin(async move { log::read_after(conn, after, &[], PAGE).await })
                })
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, error = ?e, "reading the event log failed");
                    break;
                }
            };
            let full = rows.len() as u64 == PAGE;
            for row in rows {
                let seq = row.seq.unwrap_or(after);
                let _ = feed.sender.send(Arc::new(row));
                feed.head.store(seq, Ordering::SeqCst);
            }
            if !full {
                break;
            }
        }
    }
}

/// The tenant's events after `after` (or, without it, from now on), then each new one as
/// it commits, only those of `types` when given.
pub async fn follow(
    app: AppContext,
    tenant: Arc<Tenant>,
    types: Vec<String>,
    after: Option<i64>,
) -> AppResult<impl Stream<Item = AppResult<Arc<event::Model>>>> {
    let subscribed = app.feeds.join(&app, &tenant).await?;
    // Listen before reading anything: whatever the feed hands out from now on is seen.
    let live = subscribed.feed.sender.subscribe();
    let cursor = after.unwrap_or_else(|| subscribed.feed.head.load(Ordering::SeqCst));
    let mut state = Follower {
        app,
        tenant,
        types,
        cursor,
        live,
        backlog: Default::default(),
        _subscribed: subscribed,
    };
    if after.is_some() {
        // Replay: everything committed after the cursor so far; the feed brings the rest.
        state.catch_up().await?;
    }
    // Catching up is boxed where it happens: an idle subscriber's stream then holds the
    // wait for the feed, not the state of a read from the log (about 8 KiB).
    let stream = futures::stream::unfold(state, |mut f| async move {
        loop {
            if let Some(event) = f.backlog.pop_front() {
                if let Some(item) = f.deliver(event) {
                    return Some((Ok(item), f));
                }
                continue;
            }
            match f.live.recv().await {
                Ok(event) => {
                    let seq = event.seq.unwrap_or_default();
                    if seq <= f.cursor {
                        continue;
                    }
                    if seq == f.cursor + 1 {
                        f.backlog.push_back(event);
                        continue;
                    }
                    // Events between the cursor and this one: replay them from the log.
                    if let Err(e) = Box::pin(f.catch_up()).await {
                        return Some((Err(e), f));
                    }
                    if seq > f.cursor {
                        f.backlog.push_back(event);
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    if let Err(e) = Box::pin(f.catch_up()).await {
                        return Some((Err(e), f));
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(stream)
}

struct Follower {
    app: AppContext,
    tenant: Arc<Tenant>,
    types: Vec<String>,
    cursor: i64,
    live: broadcast::Receiver<Arc<event::Model>>,
    backlog: std::collections::VecDeque<Arc<event::Model>>,
    _subscribed: Subscribed,
}

impl Follower {
    /// Advances the cursor over `event`; returns it if the subscriber wants its type.
    fn deliver(&mut self, event: Arc<event::Model>) -> Option<Arc<event::Model>> {
        let seq = event.seq.unwrap_or_default();
        if seq <= self.cursor {
            return None;
        }
        self.cursor = seq;
        (self.types.is_empty() || self.types.contains(&event.event_type)).then_some(event)
    }

    /// Reads from the log what the cursor misses, into the backlog, in order.
    async fn catch_up(&mut self) -> AppResult<()> {
        let mut after = self
            .backlog
            .back()
            .and_then(|e| e.seq)
            .unwrap_or(self.cursor);
        loop {
            let from = after;
            let rows = self
                .app
                .store
                .read(&self.tenant, move |conn| {
                    Box::pin(async move { log::read_after(conn, from, &[], PAGE).await })
                })
                .await?;
            let full = rows.len() as u64 == PAGE;
            for row in rows {
                after = row.seq.unwrap_or(after);
                self.backlog.push_back(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }
}
