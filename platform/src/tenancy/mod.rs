//! Tenancy: the control-plane registry, the Host -> tenant resolver, the storage seam
//! (PostgreSQL schema or SQLite file per tenant) and the request's tenant transaction.
//!
//! Nothing outside this module opens a connection to tenant data: everything goes through a
//! [`TenantTx`], which is bound to exactly one tenant.

mod migrate;
mod registry;
mod resolver;
mod slug;
mod store;
mod tx;

pub use migrate::migrate_tenants;
pub use registry::{Registry, TenantFilter, TenantStatus};
pub use resolver::{HostTarget, TenantResolver};
pub use slug::Slug;
#[cfg(feature = "bench-baseline")]
pub use store::RawPool;
pub use store::{MigrationReport, Store};
pub use tx::{TenantTx, TxMode};

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A tenant as the request path sees it: resolved from the Host header, cached.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: Slug,
    pub name: String,
    pub plan: String,
    pub owner_email: String,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
}

impl TryFrom<entity::control::tenant::Model> for Tenant {
    type Error = crate::error::AppError;

    fn try_from(model: entity::control::tenant::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: model.id,
            slug: Slug::parse(&model.slug)?,
            status: TenantStatus::parse(&model.status)?,
            name: model.name,
            plan: model.plan,
            owner_email: model.owner_email,
            created_at: model.created_at,
            suspended_at: model.suspended_at,
        })
    }
}
