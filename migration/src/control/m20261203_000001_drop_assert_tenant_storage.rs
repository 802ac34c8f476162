use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// PostgreSQL: `nexo.assert_tenant_storage` is no longer called. A tenant transaction now
/// sets its search path with a statement that reads the schema's `tenant_identity` itself
/// (no row, no path), which costs PostgreSQL a fraction of a function call whose plan is
/// made again under every tenant's path.
#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = "CREATE OR REPLACE FUNCTION nexo.assert_tenant_storage(expected uuid)
     RETURNS void LANGUAGE plpgsql AS $$
     BEGIN
         IF NOT EXISTS (SELECT 1 FROM tenant_identity WHERE id = expected) THEN
             RAISE EXCEPTION 'this storage belongs to another tenant'
                 USING ERRCODE = 'NX404';
         END IF;
     END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS nexo.assert_tenant_storage(uuid)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }
}
