use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(pk_uuid(Tenants::Id))
                    .col(string_len_uniq(Tenants::Slug, 40))
                    .col(string(Tenants::Name))
                    .col(string(Tenants::Plan))
                    .col(string(Tenants::OwnerEmail))
                    .col(string_len(Tenants::Status, 16))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Tenants::SuspendedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantDomains::Table)
                    .if_not_exists()
                    .col(string_len(TenantDomains::Domain, 253).primary_key())
                    .col(uuid(TenantDomains::TenantId))
                    .col(timestamp_with_time_zone(TenantDomains::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("tenant_domains_tenant_fk")
                            .from(TenantDomains::Table, TenantDomains::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenant_domains_tenant_idx")
                    .table(TenantDomains::Table)
                    .col(TenantDomains::TenantId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TenantDomains::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    Plan,
    OwnerEmail,
    Status,
    CreatedAt,
    UpdatedAt,
    SuspendedAt,
}

#[derive(DeriveIden)]
enum TenantDomains {
    Table,
    Domain,
    TenantId,
    CreatedAt,
}
