use sea_orm_migration::{prelude::*, schema::*};

/// The tenant's durable jobs and timers: work that happens after the change that asks for
/// it, written in the same transaction, taken by workers under a lease.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(pk_uuid(Jobs::Id))
                    .col(string_len(Jobs::Kind, 64))
                    .col(json(Jobs::Payload))
                    .col(string_len(Jobs::State, 16))
                    .col(timestamp_with_time_zone(Jobs::DueAt))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(big_integer(Jobs::Fence))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(text_null(Jobs::LastError))
                    .col(json(Jobs::Errors))
                    .col(json_null(Jobs::Result))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Workers look for queued jobs that are due and running ones whose lease ran out.
        manager
            .create_index(
                Index::create()
                    .name("jobs_state_due_idx")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::DueAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    DueAt,
    Attempts,
    MaxAttempts,
    Fence,
    LeaseUntil,
    LastError,
    Errors,
    Result,
    CreatedAt,
    UpdatedAt,
}
