use sea_orm_migration::{prelude::*, schema::*};

/// "Tenant T may have jobs due at `due_at`": one row per tenant with queued or leased jobs,
/// written after the tenant's own commit (never inside it), so that workers find the
/// tenants with due work in one query instead of asking every tenant. `version` rises
/// with every such write: a worker that has looked inside the tenant moves `due_at` on
/// only if no write came in between.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantDueWork::Table)
                    .if_not_exists()
                    .col(pk_uuid(TenantDueWork::TenantId))
                    .col(timestamp_with_time_zone(TenantDueWork::DueAt))
                    .col(big_integer(TenantDueWork::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("tenant_due_work_tenant_fk")
                            .from(TenantDueWork::Table, TenantDueWork::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenant_due_work_due_at_idx")
                    .table(TenantDueWork::Table)
                    .col(TenantDueWork::DueAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TenantDueWork::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TenantDueWork {
    Table,
    TenantId,
    DueAt,
    Version,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}
