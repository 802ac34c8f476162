use sea_orm_migration::{prelude::*, schema::*};

/// Changes to who may do what (a user deactivated, demoted or signed out everywhere; a
/// tenant suspended, deleted or re-addressed), in the order they were recorded. Every
/// instance reads the new rows about twice a second and drops what it had cached.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessChanges::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AccessChanges::Seq))
                    .col(uuid(AccessChanges::TenantId))
                    .col(uuid_null(AccessChanges::UserId))
                    .col(timestamp_with_time_zone(AccessChanges::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("access_changes_created_at_idx")
                    .table(AccessChanges::Table)
                    .col(AccessChanges::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccessChanges::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AccessChanges {
    Table,
    Seq,
    TenantId,
    UserId,
    CreatedAt,
}
