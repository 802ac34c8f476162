use sea_orm_migration::{prelude::*, schema::*};

/// The tenant's event log: domain events appended in the same transaction as the change,
/// numbered at commit from a one-row counter so that numbers are gapless in commit order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(pk_uuid(Events::Id))
                    .col(big_integer_null(Events::Seq))
                    .col(string_len(Events::EventType, 64))
                    .col(string_len(Events::EntityType, 32))
                    .col(uuid(Events::EntityId))
                    .col(uuid_null(Events::ActorId))
                    .col(json(Events::Payload))
                    .col(timestamp_with_time_zone(Events::OccurredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_seq_key")
                    .table(Events::Table)
                    .col(Events::Seq)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Finds the events of the committing transaction, still without a number.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS events_unnumbered_idx ON events (id) WHERE seq IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventHead::Table)
                    .if_not_exists()
                    .col(integer(EventHead::Id).primary_key())
                    .col(big_integer(EventHead::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(EventHead::Table)
                    .columns([EventHead::Id, EventHead::LastSeq])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Seq,
    EventType,
    EntityType,
    EntityId,
    ActorId,
    Payload,
    OccurredAt,
}

#[derive(DeriveIden)]
enum EventHead {
    Table,
    Id,
    LastSeq,
}
