use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// PostgreSQL: `nexo.assert_tenant_storage(id)`, run by every tenant transaction right
/// after it sets its search path, in the same round trip: it fails (SQLSTATE NX404) unless
/// the schema now on the path belongs to that tenant id. SQLite checks its file once, when
/// it opens the tenant's pool.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION nexo.assert_tenant_storage(expected uuid)
                     RETURNS void LANGUAGE plpgsql AS $$
                     BEGIN
                         IF NOT EXISTS (SELECT 1 FROM tenant_identity WHERE id = expected) THEN
                             RAISE EXCEPTION 'this storage belongs to another tenant'
                                 USING ERRCODE = 'NX404';
                         END IF;
                     END $$",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS nexo.assert_tenant_storage(uuid)")
                .await?;
        }
        Ok(())
    }
}
