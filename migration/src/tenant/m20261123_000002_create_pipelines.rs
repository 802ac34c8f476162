use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Pipelines::Table)
                    .if_not_exists()
                    .col(pk_uuid(Pipelines::Id))
                    .col(string(Pipelines::Name))
                    .col(boolean(Pipelines::IsDefault))
                    .col(integer(Pipelines::Position))
                    .col(timestamp_with_time_zone(Pipelines::CreatedAt))
                    .col(timestamp_with_time_zone(Pipelines::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PipelineStages::Table)
                    .if_not_exists()
                    .col(pk_uuid(PipelineStages::Id))
                    .col(uuid(PipelineStages::PipelineId))
                    .col(string(PipelineStages::Name))
                    .col(integer(PipelineStages::Position))
                    .col(small_integer(PipelineStages::Probability))
                    .col(string_len(PipelineStages::Kind, 8))
                    .col(timestamp_with_time_zone(PipelineStages::CreatedAt))
                    .col(timestamp_with_time_zone(PipelineStages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("pipeline_stages_pipeline_fk")
                            .from(PipelineStages::Table, PipelineStages::PipelineId)
                            .to(Pipelines::Table, Pipelines::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(PipelineStages::Probability).between(0, 100))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pipeline_stages_pipeline_position_idx")
                    .table(PipelineStages::Table)
                    .col(PipelineStages::PipelineId)
                    .col(PipelineStages::Position)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PipelineStages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Pipelines::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    Id,
    Name,
    IsDefault,
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PipelineStages {
    Table,
    Id,
    PipelineId,
    Name,
    Position,
    Probability,
    Kind,
    CreatedAt,
    UpdatedAt,
}
