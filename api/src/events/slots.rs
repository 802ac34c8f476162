//! Limits on open subscriptions, per WebSocket connection and per tenant on this instance,
//! and the end of a deactivated user's subscriptions. A subscription holds a [`Slot`] for
//! as long as it streams.

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
    auth::Principal,
    error::{AppError, AppResult},
};

/// The subscriptions open on one WebSocket connection.
#[derive(Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

/// This instance's open subscriptions per tenant, and announcements of users whose
/// subscriptions must end.
#[derive(Clone)]
pub struct Subscriptions {
    per_tenant: Arc<Mutex<HashMap<Uuid, usize>>>,
    revoked: broadcast::Sender<(Uuid, Uuid)>,
}

impl Default for Subscriptions {
    fn default() -> Self {
        Self {
            per_tenant: Default::default(),
            revoked: broadcast::channel(256).0,
        }
    }
}

/// The event a deactivation appends; a tenant's feed, on every instance, ends the user's
/// subscriptions when it hands it out.
pub const DEACTIVATED_EVENT: &str = "user.deactivated";

impl Subscriptions {
    /// Subscriptions open on this instance.
    pub fn open(&self) -> usize {
        self.per_tenant
            .lock()
            .map(|p| p.values().sum())
            .unwrap_or_default()
    }

    /// Ends every subscription of this user on this instance.
    pub fn revoke(&self, tenant: Uuid, user: Uuid) {
        let _ = self.revoked.send((tenant, user));
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

/// The stream, holding its slot, ending when its user is deactivated.
pub fn guard<S: Stream + Send + 'static>(
    stream: S,
    slot: Slot,
    app: &AppContext,
    principal: &Principal,
) -> impl Stream<Item = S::Item> + Send + use<S> {
    let mut revoked = app.subscriptions.revoked.subscribe();
    let (tenant, user) = (principal.tenant_id, principal.user_id);
    let ended = async move {
        loop {
            match revoked.recv().await {
                Ok((t, u)) if t == tenant && u == user => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    stream.take_until(Box::pin(ended)).map(move |item| {
        let _held = &slot;
        item
    })
}
