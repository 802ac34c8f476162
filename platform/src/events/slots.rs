//! Limits on open subscriptions, per WebSocket connection and per tenant on this instance,
//! and the end of a subscription when its user's or tenant's access changes. A
//! subscription holds a [`Slot`] for as long as it streams.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use futures::{Stream, StreamExt};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{
    AppContext,
    auth::{Principal, TenantToken},
    error::{AppError, AppResult},
    tenancy::Tenant,
};

/// The subscriptions open on one WebSocket connection.
#[derive(Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

/// This instance's open subscriptions per tenant.
#[derive(Clone, Default)]
pub struct Subscriptions {
    per_tenant: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl Subscriptions {
    /// Subscriptions open on this instance.
    pub fn open(&self) -> usize {
        self.per_tenant
            .lock()
            .map(|p| p.values().sum())
            .unwrap_or_default()
    }
}

pub struct Slot {
    connection: ConnectionSubscriptions,
    tenant: Uuid,
    registry: Subscriptions,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.0.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut per_tenant) = self.registry.per_tenant.lock()
            && let Some(count) = per_tenant.get_mut(&self.tenant)
        {
            *count -= 1;
            if *count == 0 {
                per_tenant.remove(&self.tenant);
            }
        }
    }
}

/// Takes a slot for a new subscription, or refuses it with `LIMIT_EXCEEDED`.
pub fn acquire(
    app: &AppContext,
    connection: &ConnectionSubscriptions,
    tenant: Uuid,
) -> AppResult<Slot> {
    let limits = &app.config.limits;
    let open = connection.0.fetch_add(1, Ordering::SeqCst);
    let slot = Slot {
        connection: connection.clone(),
        tenant,
        registry: app.subscriptions.clone(),
    };
    {
        let mut per_tenant = app
            .subscriptions
            .per_tenant
            .lock()
            .map_err(|_| AppError::internal("subscription registry poisoned"))?;
        *per_tenant.entry(tenant).or_default() += 1;
    }
    if open >= limits.max_subscriptions_per_connection {
        return Err(AppError::LimitExceeded(format!(
            "at most {} subscriptions per connection",
            limits.max_subscriptions_per_connection
        )));
    }
    let tenant_open = app
        .subscriptions
        .per_tenant
        .lock()
        .map(|p| p.get(&tenant).copied().unwrap_or(0))
        .unwrap_or(0);
    if tenant_open > limits.max_subscriptions_per_tenant {
        return Err(AppError::LimitExceeded(format!(
            "at most {} live subscriptions per tenant",
            limits.max_subscriptions_per_tenant
        )));
    }
    Ok(slot)
}

/// The stream, holding its slot, ending when its user's access changes (deactivated,
/// demoted, signed out everywhere) or its tenant's (suspended, deleted): on any change that
/// concerns it, the subscription is authorized anew, and ends unless it still would be
/// with the same role. The client then subscribes again.
pub fn guard<S: Stream<Item: Send> + Send + 'static>(
    stream: S,
    slot: Slot,
    app: &AppContext,
    session: Session,
) -> impl Stream<Item = S::Item> + Send + use<S> {
    let mut changes = app.access.subscribe();
    let access = app.access.clone();
    // While a change is checked, nothing more is delivered: an event committed with the
    // change (a `user.deactivated`) must not reach the user it ends.
    let (checked, checking) = tokio::sync::watch::channel(false);
    let ended = async move {
        loop {
            match changes.recv().await {
                Ok(change) if change.concerns(&session.principal) => {
                    let _ = checked.send(true);
                    let still = access
                        .authorize_again(&session.tenant, &session.token)
                        .await;
                    if !matches!(still, Ok((_, now)) if now.role == session.principal.role) {
                        return;
                    }
                    let _ = checked.send(false);
                }
                Ok(_) => {}
                // Changes were missed: end rather than outlive a revocation.
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    stream
        .then(move |item| {
            let mut checking = checking.clone();
            async move {
                let _ = checking.wait_for(|busy| !busy).await;
                item
            }
        })
        .take_until(Box::pin(ended))
        .map(move |item| {
            let _held = &slot;
            item
        })
}

/// Who a subscription runs for, as authorized when it started.
pub struct Session {
    pub tenant: Arc<Tenant>,
    pub token: TenantToken,
    pub principal: Principal,
}
