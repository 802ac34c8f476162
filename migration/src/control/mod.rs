use sea_orm_migration::prelude::*;

mod m20261123_000001_create_tenants;
mod m20261123_000002_create_platform_admins;
mod m20261123_000003_enable_pg_trgm;
mod m20261202_000001_create_access_changes;
mod m20261202_000002_create_assert_tenant_storage;
mod m20261203_000001_drop_assert_tenant_storage;
mod m20261204_000001_create_tenant_due_work;

pub(crate) fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261123_000001_create_tenants::Migration),
        Box::new(m20261123_000002_create_platform_admins::Migration),
        Box::new(m20261123_000003_enable_pg_trgm::Migration),
        Box::new(m20261202_000001_create_access_changes::Migration),
        Box::new(m20261202_000002_create_assert_tenant_storage::Migration),
        Box::new(m20261203_000001_drop_assert_tenant_storage::Migration),
        Box::new(m20261204_000001_create_tenant_due_work::Migration),
    ]
}
