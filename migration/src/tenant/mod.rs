use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_pipelines;
mod m20261123_000003_create_crm;
mod m20261123_000004_create_events;
mod m20261202_000001_add_user_auth_version;
mod m20261202_000002_create_tenant_identity;
mod m20261203_000001_create_jobs;
mod m20261204_000001_create_files;
mod m20261204_000002_tune_jobs_statistics;

pub(crate) fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261123_000001_create_users::Migration),
        Box::new(m20261123_000002_create_pipelines::Migration),
        Box::new(m20261123_000003_create_crm::Migration),
        Box::new(m20261123_000004_create_events::Migration),
        Box::new(m20261202_000001_add_user_auth_version::Migration),
        Box::new(m20261202_000002_create_tenant_identity::Migration),
        Box::new(m20261203_000001_create_jobs::Migration),
        Box::new(m20261204_000001_create_files::Migration),
        Box::new(m20261204_000002_tune_jobs_statistics::Migration),
    ]
}
