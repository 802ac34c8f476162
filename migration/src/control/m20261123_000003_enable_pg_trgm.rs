use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// PostgreSQL: the trigram extension that tenant schemas use for substring search. It is
/// created here, once per database under the control-plane migration lock, because
/// concurrent `CREATE EXTENSION IF NOT EXISTS` in several tenant provisionings can collide.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Tenant indexes depend on the extension; it stays.
        Ok(())
    }
}
