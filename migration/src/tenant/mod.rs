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
mod m20261205_000001_create_sales;
mod m20261206_000001_create_invoices;

/// A foreign key from `table.column` to `ref_table.ref_column`.
pub(crate) fn fk<
    T: IntoIden + Copy,
    C: IntoIden + Copy,
    R: IntoIden + Copy,
    RC: IntoIden + Copy,
>(
    name: &str,
    table: T,
    column: C,
    ref_table: R,
    ref_column: RC,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(ref_table, ref_column)
        .on_delete(on_delete)
        .to_owned()
}

/// A (non-unique) index on `columns`.
pub(crate) async fn index<T: IntoIden + Copy, C: IntoIden + Copy>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table).if_not_exists();
    for column in columns {
        statement.col(*column);
    }
    manager.create_index(statement.to_owned()).await
}

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
        Box::new(m20261205_000001_create_sales::Migration),
        Box::new(m20261206_000001_create_invoices::Migration),
    ]
}
