//! Authorization against current state. A token proves who signed in; every HTTP request
//! and every WebSocket operation then acts with the user's *current* role, and is refused
//! once the user is deactivated, signed out everywhere or gone, or the tenant is suspended,
//! deleted or replaced by another under the same slug.
//!
//! The current state is cached per instance, so a request costs no database round trip.
//! A change is applied here at once, then recorded in the control plane's `access_changes`;
//! every instance (and this one again, after the change's commit) reads the new rows at
//! once when PostgreSQL notifies it, and at least twice a second, and drops what it had
//! cached. A change made by the CLI reaches the
//! servers the same way. The cache's own expiry is only the last resort.
//!
//! It must never grant anything a token alone claims: the role and the user's existence
//! come from the tenant's data.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::Utc;
use entity::{control::access_change, tenant::user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Principal, Role, TenantToken, UserStatus, parse_role};
use crate::{
    error::{AppError, AppResult},
    tenancy::{Store, Tenant, TenantResolver},
};

/// How often every instance reads the changes recorded since its last look (on
/// PostgreSQL, a notification on [`ACCESS_CHANNEL`] makes it look at once).
const POLL: Duration = Duration::from_millis(500);
/// The PostgreSQL notification channel on which an instance says it recorded a change.
pub const ACCESS_CHANNEL: &str = "nexo_access";
/// How long a user's state is trusted without any recorded change (the last resort, should
/// a change fail to be recorded).
const USER_STATE_TTL: Duration = Duration::from_secs(60);
/// Changes are read again this many sequence numbers back: two changes recorded at once may
/// commit out of order, and the later number must not hide the earlier one.
const OVERLAP: i64 = 64;
/// Recorded changes older than this are deleted; every instance has long read them.
const KEEP: chrono::Duration = chrono::Duration::hours(1);

/// What changed: one user's access, or a whole tenant's (status, domains, existence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessChange {
    User { tenant: Uuid, user: Uuid },
    Tenant(Uuid),
}

impl AccessChange {
    /// Whether this change concerns what `principal` may do.
    pub fn concerns(&self, principal: &Principal) -> bool {
        match *self {
            Self::User { tenant, user } => {
                tenant == principal.tenant_id && user == principal.user_id
            }
            Self::Tenant(tenant) => tenant == principal.tenant_id,
        }
    }
}

/// A user's state as far as access goes.
#[derive(Clone, Copy, Debug)]
struct UserAccess {
    role: Role,
    active: bool,
    version: i64,
}

/// This instance's view of who may do what. Cheap to clone.
#[derive(Clone)]
pub struct AccessControl {
    store: Store,
    resolver: TenantResolver,
    users: moka::future::Cache<(Uuid, Uuid), Option<UserAccess>>,
    changes: broadcast::Sender<AccessChange>,
    /// Rung when another instance says it recorded a change (PostgreSQL's notification):
    /// the changes are read at once instead of at the next poll.
    recorded_elsewhere: Arc<tokio::sync::Notify>,
}

impl AccessControl {
    pub fn new(store: Store, resolver: TenantResolver) -> Self {
        Self {
            store,
            resolver,
            users: moka::future::Cache::builder()
                .max_capacity(200_000)
                .time_to_live(USER_STATE_TTL)
                .build(),
            changes: broadcast::channel(1024).0,
            recorded_elsewhere: Default::default(),
        }
    }

    /// The principal a verified token stands for on `tenant` (the tenant the request's
    /// Host resolved to, active), with the user's current role.
    pub async fn authorize(&self, tenant: &Tenant, token: &TenantToken) -> AppResult<Principal> {
        if token.tenant_id != tenant.id {
            return Err(AppError::Unauthenticated(
                "this token belongs to another tenant".into(),
            ));
        }
        let state = self.user_state(tenant, token.user_id).await?;
        let state = match state {
            Some(state) if state.active => state,
            Some(_) => {
                return Err(AppError::Unauthenticated(
                    "this user is no longer active".into(),
                ));
            }
            None => {
                return Err(AppError::Unauthenticated(
                    "this token's user does not exist".into(),
                ));
            }
        };
        if state.version != token.version {
            return Err(AppError::Unauthenticated(
                "this session was ended; sign in again".into(),
            ));
        }
        Ok(Principal {
            user_id: token.user_id,
            tenant_id: tenant.id,
            role: state.role,
        })
    }

    /// Authorizes one more operation of a long-lived session (a WebSocket connection):
    /// the token must not have expired, and its tenant must still be the active tenant of
    /// that slug, the same one by id.
    pub async fn authorize_again(
        &self,
        tenant: &Tenant,
        token: &TenantToken,
    ) -> AppResult<(Arc<Tenant>, Principal)> {
        if token.expires_at <= Utc::now() {
            return Err(AppError::Unauthenticated(
                "the access token has expired; connect again with a fresh one".into(),
            ));
        }
        let current = self.resolver.current(tenant).await?;
        let principal = self.authorize(&current, token).await?;
        Ok((current, principal))
    }

    async fn user_state(&self, tenant: &Tenant, user_id: Uuid) -> AppResult<Option<UserAccess>> {
        let store = self.store.clone();
        let tenant = tenant.clone();
        self.users
            .try_get_with((tenant.id, user_id), async move {
                let found = store
                    .read(&tenant, move |conn| {
                        Box::pin(
                            async move { Ok(user::Entity::find_by_id(user_id).one(conn).await?) },
                        )
                    })
                    .await?;
                found
                    .map(|user| {
                        Ok::<_, AppError>(UserAccess {
                            role: parse_role(&user.role)?,
                            active: user.status == UserStatus::Active.as_str(),
                            version: user.auth_version,
                        })
                    })
                    .transpose()
            })
            .await
            .map_err(|e| AppError::internal(format!("reading a user's access: {}", e.message())))
    }

    /// Changes of access as this instance applies them (open subscriptions end on them).
    pub fn subscribe(&self) -> broadcast::Receiver<AccessChange> {
        self.changes.subscribe()
    }

    /// A user's role, status or sessions changed (call once the change has committed):
    /// applied here at once, and recorded for every other instance.
    pub async fn user_changed(&self, tenant: Uuid, user: Uuid) {
        let change = AccessChange::User { tenant, user };
        self.apply(change).await;
        self.record(change).await;
    }

    /// A tenant's status, domains or existence changed in the registry: applied here at
    /// once, and recorded for every other instance before this returns.
    pub async fn tenant_changed(&self, tenant: Uuid) {
        let change = AccessChange::Tenant(tenant);
        self.apply(change).await;
        self.record(change).await;
    }

    async fn apply(&self, change: AccessChange) {
        match change {
            AccessChange::User { tenant, user } => {
                self.users.invalidate(&(tenant, user)).await;
            }
            // Its users' state is its own and unchanged; a tenant provisioned again under
            // the slug has another id, and so other keys.
            AccessChange::Tenant(tenant) => self.resolver.forget(tenant),
        }
        // No receiver is fine: nothing is subscribed on this instance.
        let _ = self.changes.send(change);
    }

    /// Writes the change where every instance reads; retried, since another instance
    /// learns of it only this way (or when its cache expires).
    async fn record(&self, change: AccessChange) {
        let (tenant_id, user_id) = match change {
            AccessChange::User { tenant, user } => (tenant, Some(user)),
            AccessChange::Tenant(tenant) => (tenant, None),
        };
        for attempt in 0..5u32 {
            let row = access_change::ActiveModel {
                tenant_id: Set(tenant_id),
                user_id: Set(user_id),
                created_at: Set(Utc::now()),
                ..Default::default()
            };
            match row.insert(self.store.control_unmetered()).await {
                Ok(_) => {
                    self.tell_others().await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "could not record an access change");
                    tokio::time::sleep(Duration::from_millis(200) * 2u32.pow(attempt)).await;
                }
            }
        }
        tracing::error!(
            ?change,
            "an access change was not recorded; other instances apply it when their cache expires"
        );
    }

    /// On PostgreSQL, wakes the other instances' readers (after the change committed; a
    /// lost notification only leaves them to their next poll).
    async fn tell_others(&self) {
        if !self.store.is_postgres() {
            return;
        }
        use sea_orm::ConnectionTrait;
        let sent = self
            .store
            .control_unmetered()
            .execute_unprepared(&format!("SELECT pg_notify('{ACCESS_CHANNEL}', '')"))
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not notify other instances of an access change");
        }
    }

    /// Another instance recorded a change: read the changes now.
    pub fn recorded_elsewhere(&self) {
        self.recorded_elsewhere.notify_one();
    }

    /// Starts reading the changes other instances (and the CLI) record.
    pub fn start_following(&self) {
        let this = self.clone();
        tokio::spawn(async move { this.follow().await });
    }

    async fn follow(self) {
        let control = self.store.control_unmetered().clone();
        let mut cursor = loop {
            match latest_seq(&control).await {
                Ok(seq) => break seq,
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot read access changes; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        };
        let mut seen = BTreeSet::new();
        let mut last_pruned = std::time::Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = self.recorded_elsewhere.notified() => {}
            }
            let rows = access_change::Entity::find()
                .filter(access_change::Column::Seq.gt(cursor - OVERLAP))
                .order_by_asc(access_change::Column::Seq)
                .limit(10_000)
                .all(&control)
                .await;
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read access changes");
                    continue;
                }
            };
            for row in rows {
                if !seen.insert(row.seq) {
                    continue;
                }
                cursor = cursor.max(row.seq);
                self.apply(match row.user_id {
                    Some(user) => AccessChange::User {
                        tenant: row.tenant_id,
                        user,
                    },
                    None => AccessChange::Tenant(row.tenant_id),
                })
                .await;
            }
            seen = seen.split_off(&(cursor - OVERLAP));
            if last_pruned.elapsed() > Duration::from_secs(600) {
                last_pruned = std::time::Instant::now();
                let pruned = access_change::Entity::delete_many()
                    .filter(access_change::Column::CreatedAt.lt(Utc::now() - KEEP))
                    .exec(&control)
                    .await;
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "cannot prune access changes");
                }
            }
        }
    }
}

async fn latest_seq(control: &DatabaseConnection) -> AppResult<i64> {
    Ok(access_change::Entity::find()
        .order_by_desc(access_change::Column::Seq)
        .one(control)
        .await?
        .map_or(0, |row| row.seq))
}
