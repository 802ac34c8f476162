use sea_orm_migration::{prelude::*, schema::*};

/// The tenant's files: what each is (name, type, size, who uploaded it). The bodies live in
/// the object store under keys scoped by the tenant's id.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .if_not_exists()
                    .col(pk_uuid(Files::Id))
                    .col(string_len(Files::Name, 255))
                    .col(string_len(Files::ContentType, 255))
                    .col(big_integer(Files::Size))
                    .col(uuid_null(Files::UploadedBy))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Files::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    Name,
    ContentType,
    Size,
    UploadedBy,
    CreatedAt,
}
