//! Fan-out between instances on PostgreSQL. After a commit, this instance tells the others
//! with a coalesced `NOTIFY` (at most one every few milliseconds, naming the tenants whose
//! logs grew), never inside the write transaction: a transaction holding a notification
//! takes a database-wide lock at commit. Every instance listens and wakes its own feeds;
//! a lost notification only delays an event until the feeds' next look at the log. The
//! same listener hears of access changes ([`crate::auth::AccessControl`]) and of jobs
//! that became due elsewhere ([`crate::jobs`]).

use std::{collections::HashMap, time::Duration};

use sea_orm::sqlx::{
    self,
    postgres::{PgListener, PgPoolOptions},
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::AppContext;

const CHANNEL: &str = "nexo_events";
/// "A tenant has new jobs due": workers elsewhere read the control plane again.
const JOBS_CHANNEL: &str = "nexo_jobs";
/// How long local commits are gathered into one notification.
const COALESCE: Duration = Duration::from_millis(5);
/// PostgreSQL refuses payloads over 8000 bytes.
const MAX_PAYLOAD: usize = 7000;

/// Starts the notifier and the listener of this instance.
pub fn start(app: &AppContext, database_url: &str) {
    let instance = Uuid::new_v4();
    // A connection of its own, outside the request pools and their statement count.
    let notifier = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy(database_url);
    match notifier {
        Ok(pool) => {
            tokio::spawn(notify_others(app.clone(), pool.clone(), instance));
            tokio::spawn(notify_jobs_due(app.clone(), pool, instance));
        }
        Err(e) => tracing::error!(error = %e, "cannot notify other instances"),
    }
    tokio::spawn(listen(app.clone(), database_url.to_owned(), instance));
}

async fn notify_others(app: AppContext, pool: sqlx::PgPool, instance: Uuid) {
    let mut wakes = app.events.subscribe();
    loop {
        let mut heads: HashMap<Uuid, i64> = HashMap::new();
        match wakes.recv().await {
            Ok(wake) if wake.local => {
                heads.insert(wake.tenant_id, wake.head);
            }
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        }
        let deadline = tokio::time::sleep(COALESCE);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                wake = wakes.recv() => match wake {
                    Ok(wake) if wake.local => {
                        let head = heads.entry(wake.tenant_id).or_default();
                        *head = (*head).max(wake.head);
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                () = &mut deadline => break,
            }
        }
        for payload in payloads(instance, &heads) {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "could not notify other instances");
            }
        }
    }
}

/// Tells other instances' workers that this one recorded due jobs, at most once per
/// coalescing interval.
async fn notify_jobs_due(app: AppContext, pool: sqlx::PgPool, instance: Uuid) {
    loop {
        app.jobs.recorded_here().await;
        tokio::time::sleep(COALESCE).await;
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(JOBS_CHANNEL)
            .bind(instance.to_string())
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not tell other instances of due jobs");
        }
    }
}

/// `<instance> <tenant>:<head> <tenant>:<head> ...`, split to fit PostgreSQL's limit.
fn payloads(instance: Uuid, heads: &HashMap<Uuid, i64>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = instance.to_string();
    for (tenant, head) in heads {
        let item = format!(" {tenant}:{head}");
        if current.len() + item.len() > MAX_PAYLOAD {
            payloads.push(std::mem::replace(&mut current, instance.to_string()));
        }
        current.push_str(&item);
    }
    payloads.push(current);
    payloads
}

async fn listen(app: AppContext, database_url: String, instance: Uuid) {
    loop {
        let mut listener = match PgListener::connect(&database_url).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "event listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener
            .listen_all([CHANNEL, JOBS_CHANNEL, crate::auth::ACCESS_CHANNEL])
            .await
        {
            tracing::warn!(error = %e, "event listener cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Due jobs recorded elsewhere while no one listened are read now.
        app.jobs.heard_elsewhere();
        loop {
            match listener.recv().await {
                Ok(notification) if notification.channel() == crate::auth::ACCESS_CHANNEL => {
                    app.access.recorded_elsewhere();
                }
                Ok(notification) if notification.channel() == JOBS_CHANNEL => {
                    if notification.payload() != instance.to_string() {
                        app.jobs.heard_elsewhere();
                    }
                }
                Ok(notification) => {
                    let mut parts = notification.payload().split(' ');
                    if parts.next() == Some(instance.to_string().as_str()) {
                        continue;
                    }
                    for item in parts {
                        let Some((tenant, head)) = item.split_once(':') else {
                            continue;
                        };
                        if let (Ok(tenant), Ok(head)) = (Uuid::parse_str(tenant), head.parse()) {
                            app.events.wake_remote(tenant, head);
                        }
                    }
                }
                Err(e) => {
                    // Whatever was notified meanwhile is found by the feeds' next look.
                    tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}
