//! Schema migrations for Nexo's two kinds of database.
//!
//! [`ControlMigrator`] builds the control plane (tenant registry, domains, platform admins);
//! [`TenantMigrator`] builds one tenant's schema (PostgreSQL) or file (SQLite). Tenant
//! migrations never name a schema: on PostgreSQL they run with `search_path` set to the
//! tenant's schema, so the same statements serve every tenant. This crate knows nothing of
//! the `api` crate.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod control;
mod tenant;

/// Migrates the control plane: `nexo` schema on PostgreSQL, `control.db` on SQLite.
pub struct ControlMigrator;

#[async_trait::async_trait]
impl MigratorTrait for ControlMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        control::migrations()
    }
}

/// Migrates one tenant's schema or file.
pub struct TenantMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        tenant::migrations()
    }
}
