use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlatformAdmins::Table)
                    .if_not_exists()
                    .col(pk_uuid(PlatformAdmins::Id))
                    .col(string_uniq(PlatformAdmins::Email))
                    .col(string_null(PlatformAdmins::PasswordHash))
                    .col(string_len(PlatformAdmins::Status, 16))
                    .col(timestamp_with_time_zone(PlatformAdmins::CreatedAt))
                    .col(timestamp_with_time_zone(PlatformAdmins::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdminSetupTokens::Table)
                    .if_not_exists()
                    .col(pk_uuid(AdminSetupTokens::Id))
                    .col(uuid(AdminSetupTokens::AdminId))
                    .col(string_uniq(AdminSetupTokens::TokenHash))
                    .col(timestamp_with_time_zone(AdminSetupTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AdminSetupTokens::UsedAt))
                    .col(timestamp_with_time_zone(AdminSetupTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("admin_setup_tokens_admin_fk")
                            .from(AdminSetupTokens::Table, AdminSetupTokens::AdminId)
                            .to(PlatformAdmins::Table, PlatformAdmins::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdminSetupTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PlatformAdmins::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PlatformAdmins {
    Table,
    Id,
    Email,
    PasswordHash,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AdminSetupTokens {
    Table,
    Id,
    AdminId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}
