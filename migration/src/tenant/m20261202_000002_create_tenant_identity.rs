use sea_orm_migration::{prelude::*, schema::*};

/// The id of the tenant this storage belongs to. A slug can be provisioned again after its
/// tenant was deleted; storage opened for the old tenant's id then refuses to serve the new
/// one's data. Provisioning (or `nexo migrate`, for storage older than this) writes the row.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantIdentity::Table)
                    .if_not_exists()
                    .col(pk_uuid(TenantIdentity::Id))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TenantIdentity::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TenantIdentity {
    Table,
    Id,
}
