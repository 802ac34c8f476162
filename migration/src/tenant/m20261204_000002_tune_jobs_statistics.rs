use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// PostgreSQL: the jobs table churns (every job is written three times), so its statistics
/// and dead rows are kept up after a 1% change rather than the default 10-20%. With stale
/// statistics the planner sorts every due job to take the first few, instead of reading the
/// due-time index in order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.01, \
                 autovacuum_analyze_scale_factor = 0.01)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE jobs RESET (autovacuum_vacuum_scale_factor, \
                 autovacuum_analyze_scale_factor)",
            )
            .await?;
        Ok(())
    }
}
