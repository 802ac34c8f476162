//! The storage seam: where the control plane and each tenant's data live.
//!
//! PostgreSQL: the control plane in schema `nexo` (its own small pool, `search_path=nexo`),
//! every tenant in schema `t_<slug>` reached through one shared pool, each transaction
//! starting with one statement that sets its search path (transaction-local) only if the
//! schema holds the tenant's id. SQLite: `control.db` plus `tenants/<slug>.db`, a
//! small pool per tenant file opened on first use and closed when idle.
//!
//! This module never takes a schema or file name from anything but a [`Slug`].

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use migration::{ControlMigrator, TenantMigrator, sea_orm_migration::MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::{
        postgres::PgPoolOptions,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};

use super::{Slug, Tenant, TxMode};
use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// Lock key that serialises control-plane migrations between instances (and test servers)
/// sharing one PostgreSQL database.
const CONTROL_MIGRATION_LOCK: i64 = 0x6e65_786f_0001;
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_TENANT_POOL_SIZE: u32 = 4;

/// Cheap to clone; every clone shares the pools.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    backend: Backend,
    /// The control plane's pool again, outside the statement count: for the background
    /// readers whose statements belong to no request.
    control_unmetered: DatabaseConnection,
    statements: Arc<AtomicU64>,
}

enum Backend {
    Postgres {
        url: String,
        control: DatabaseConnection,
        tenants: DatabaseConnection,
    },
    Sqlite {
        tenants_dir: PathBuf,
        control: DatabaseConnection,
        /// By slug: the pool and the tenant id its file was checked to belong to.
        pools: moka::future::Cache<String, (uuid::Uuid, DatabaseConnection)>,
    },
}

#[cfg(feature = "bench-baseline")]
/// A tenant's sqlx pool, for the benchmark's raw-SQL baseline (which must run on the same
/// connections as Nexo's own reads).
pub enum RawPool {
    Postgres(sea_orm::sqlx::PgPool),
    Sqlite(sea_orm::sqlx::SqlitePool),
}

/// What `nexo migrate` did to the tenants.
#[derive(Debug, Default, Clone)]
pub struct MigrationReport {
    pub tenants: usize,
    pub tenant_migrations_applied: usize,
    pub failed: Vec<String>,
}

impl Store {
    /// Opens the control plane and the tenant pools (lazily, on SQLite). Does not migrate.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let statements = Arc::new(AtomicU64::new(0));
        let control_unmetered;
        let backend = match &config.database_url {
            Some(url) => {
                let control_pool = PgPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sea_orm::sqlx::Executor;
                            conn.execute("SET search_path TO nexo").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .context("connecting to PostgreSQL (control plane)")?;
                control_unmetered =
                    SqlxPostgresConnector::from_sqlx_postgres_pool(control_pool.clone());
                let random_page_cost = config.pg_random_page_cost;
                let tenant_pool = PgPoolOptions::new()
                    .max_connections(config.db_max_connections)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            use sea_orm::sqlx::Executor;
                            if let Some(cost) = random_page_cost {
                                conn.execute(sea_orm::sqlx::AssertSqlSafe(format!(
                                    "SET random_page_cost = {cost}"
                                )))
                                .await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .context("connecting to PostgreSQL (tenant pool)")?;
                Backend::Postgres {
                    url: url.clone(),
                    control: counted(
                        SqlxPostgresConnector::from_sqlx_postgres_pool(control_pool),
                        &statements,
                    ),
                    tenants: counted(
                        SqlxPostgresConnector::from_sqlx_postgres_pool(tenant_pool),
                        &statements,
                    ),
                }
            }
            None => {
                let tenants_dir = config.data_dir.join("tenants");
                crate::private_fs::create_dir_all(&tenants_dir)
                    .with_context(|| format!("creating {}", tenants_dir.display()))?;
                let control_pool =
                    sqlite_pool(&config.data_dir.join("control.db"), true, 4).await?;
                control_unmetered =
                    SqlxSqliteConnector::from_sqlx_sqlite_pool(control_pool.clone());
                let pools = moka::future::Cache::builder()
                    .time_to_idle(config.sqlite_idle)
                    .build();
                Backend::Sqlite {
                    tenants_dir,
                    control: counted(
                        SqlxSqliteConnector::from_sqlx_sqlite_pool(control_pool),
                        &statements,
                    ),
                    pools,
                }
            }
        };
        Ok(Self {
            inner: Arc::new(StoreInner {
                backend,
                control_unmetered,
                statements,
            }),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.inner.backend, Backend::Postgres { .. })
    }

    /// SQL statements run through this store so far, not counting transaction control
    /// (BEGIN, the tenant's search path, SAVEPOINT, COMMIT). Benchmarks and tests read it.
    pub fn statement_count(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// The control plane: tenant registry, domains, platform admins.
    pub fn control(&self) -> &DatabaseConnection {
        match &self.inner.backend {
            Backend::Postgres { control, .. } | Backend::Sqlite { control, .. } => control,
        }
    }

    /// The control plane for background work, whose statements no request counts.
    pub fn control_unmetered(&self) -> &DatabaseConnection {
        &self.inner.control_unmetered
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> AppResult<()> {
        self.control().ping().await.map_err(AppError::from)
    }

    /// Brings the control plane up to date; returns how many migrations were applied.
    pub async fn migrate_control(&self) -> anyhow::Result<usize> {
        let tx = self.control().begin().await?;
        if self.is_postgres() {
            tx.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({CONTROL_MIGRATION_LOCK})"
            ))
            .await?;
            tx.execute_unprepared("CREATE SCHEMA IF NOT EXISTS nexo")
                .await?;
        }
        let pending = ControlMigrator::get_pending_migrations(&tx).await?.len();
        ControlMigrator::up(&tx, None).await?;
        tx.commit().await?;
        Ok(pending)
    }

    /// Begins a transaction on one tenant's data, addressed by the tenant's id: storage
    /// that now belongs to another tenant of the same slug (deleted and provisioned again)
    /// is `TENANT_NOT_FOUND`. On PostgreSQL the first round trip pins `search_path` to the
    /// tenant's schema for this transaction alone and checks the schema's owner; on SQLite
    /// the file's owner is checked when its pool opens, and writes take the file's write
    /// lock up front (`BEGIN IMMEDIATE`) so that two writers queue instead of one failing
    /// half way.
    pub async fn begin_tenant(
        &self,
        tenant: &Tenant,
        mode: TxMode,
    ) -> AppResult<DatabaseTransaction> {
        match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                let tx = tenants.begin().await?;
                // One statement sets the path only if the schema holds this tenant's id
                // (a row of its own tenant_identity): no row means the slug has been
                // provisioned again for another tenant since this one was resolved. It is
                // sent prepared, so each connection plans it once per tenant.
                let schema = tenant.slug.quoted_schema();
                let scoped = tx
                    .execute_raw(sea_orm::Statement::from_sql_and_values(
                        sea_orm::DbBackend::Postgres,
                        format!("{SCOPE_TO_TENANT} FROM {schema}.tenant_identity WHERE id = $2"),
                        [schema.clone().into(), tenant.id.into()],
                    ))
                    .await
                    .map_err(|e| {
                        if is_missing_storage(&e) {
                            // Dropped with its tenant, or never migrated to hold its id
                            // (`nexo migrate` after an upgrade claims it).
                            tracing::warn!(tenant = %tenant.slug, "tenant storage missing or not migrated");
                            AppError::TenantNotFound
                        } else {
                            AppError::from(e)
                        }
                    })?;
                if scoped.rows_affected() != 1 {
                    return Err(AppError::TenantNotFound);
                }
                Ok(tx)
            }
            Backend::Sqlite { .. } => {
                let pool = self.sqlite_tenant_pool(tenant).await?;
                let options = TransactionOptions {
                    sqlite_transaction_mode: match mode {
                        TxMode::Read => None,
                        TxMode::Write => Some(sea_orm::SqliteTransactionMode::Immediate),
                    },
                    ..Default::default()
                };
                let tx = pool.begin_with_options(options).await?;
                Ok(tx)
            }
        }
    }

    #[cfg(feature = "bench-baseline")]
    /// The sqlx pool behind the tenant's connections (on PostgreSQL shared by all tenants:
    /// set the search path in the transaction, as [`Store::begin_tenant`] does).
    pub async fn raw_tenant_pool(&self, tenant: &Tenant) -> AppResult<RawPool> {
        Ok(match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                RawPool::Postgres(tenants.get_postgres_connection_pool().clone())
            }
            Backend::Sqlite { .. } => RawPool::Sqlite(
                self.sqlite_tenant_pool(tenant)
                    .await?
                    .get_sqlite_connection_pool()
                    .clone(),
            ),
        })
    }

    /// Runs `work` in a short read transaction of its own on the tenant (subscriptions and
    /// background readers, which have no request transaction).
    pub async fn read<T>(
        &self,
        tenant: &Tenant,
        work: impl for<'t> FnOnce(
            &'t DatabaseTransaction,
        ) -> futures::future::BoxFuture<'t, AppResult<T>>,
    ) -> AppResult<T> {
        let tx = self.begin_tenant(tenant, TxMode::Read).await?;
        let value = work(&tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Creates a new tenant's schema or file, runs the tenant migrations and marks it as
    /// the tenant's, in a transaction the caller seeds and commits. Anything left by an
    /// earlier failed attempt at the same slug (which the registry no longer holds) is
    /// removed first.
    pub async fn create_tenant_storage(&self, tenant: &Tenant) -> AppResult<DatabaseTransaction> {
        let slug = &tenant.slug;
        let tx = match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                let tx = tenants.begin().await?;
                tx.execute_unprepared(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
                     SET LOCAL search_path TO {schema}",
                    schema = slug.quoted_schema()
                ))
                .await?;
                tx
            }
            Backend::Sqlite { pools, .. } => {
                self.drop_tenant_storage(slug).await?;
                let pool = self.open_sqlite_tenant_pool(slug, true).await?;
                pools
                    .insert(slug.as_str().to_owned(), (tenant.id, pool.clone()))
                    .await;
                pool.begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
            }
        };
        TenantMigrator::up(&tx, None).await?;
        claim_storage(&tx, tenant.id).await?;
        Ok(tx)
    }

    /// Removes a tenant's schema or file (and its SQLite journal files). Idempotent.
    pub async fn drop_tenant_storage(&self, slug: &Slug) -> AppResult<()> {
        match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                tenants
                    .execute_unprepared(&format!(
                        "DROP SCHEMA IF EXISTS {} CASCADE",
                        slug.quoted_schema()
                    ))
                    .await?;
            }
            Backend::Sqlite {
                tenants_dir, pools, ..
            } => {
                if let Some((_, pool)) = pools.remove(slug.as_str()).await {
                    pool.close().await?;
                }
                let file = sqlite_tenant_file(tenants_dir, slug);
                for path in [
                    file.clone(),
                    file.with_extension("db-wal"),
                    file.with_extension("db-shm"),
                ] {
                    match tokio::fs::remove_file(&path).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(anyhow::Error::new(e)
                                .context(format!("removing {}", path.display()))
                                .into());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Does the tenant's schema or file exist?
    pub async fn tenant_storage_exists(&self, slug: &Slug) -> AppResult<bool> {
        match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                let row = tenants
                    .query_one_raw(sea_orm::Statement::from_sql_and_values(
                        sea_orm::DbBackend::Postgres,
                        "SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1",
                        [slug.schema_name().into()],
                    ))
                    .await?
                    .ok_or_else(|| AppError::internal("count returned no row"))?;
                Ok(row.try_get::<i64>("", "n")? > 0)
            }
            Backend::Sqlite { tenants_dir, .. } => {
                Ok(tokio::fs::try_exists(sqlite_tenant_file(tenants_dir, slug))
                    .await
                    .map_err(anyhow::Error::from)?)
            }
        }
    }

    /// Keeps a copy of a tenant's data under `dir` and returns its path: `pg_dump -n` of the
    /// schema on PostgreSQL; on SQLite `VACUUM INTO`, a consistent copy even while the WAL
    /// holds pages a plain file copy would miss.
    pub async fn backup_tenant(&self, tenant: &Tenant, dir: &Path) -> AppResult<PathBuf> {
        let slug = &tenant.slug;
        crate::private_fs::create_dir_all(dir)
            .with_context(|| format!("creating backup directory {}", dir.display()))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        match &self.inner.backend {
            Backend::Postgres { url, .. } => {
                let path = dir.join(format!("{}-{stamp}.dump", slug.schema_name()));
                // pg_dump writes into the private file rather than creating its own.
                crate::private_fs::create_file(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                // The password goes through the environment: a command line is visible
                // to every local user.
                let (url, password) = without_password(url)?;
                let mut command = tokio::process::Command::new("pg_dump");
                if let Some(password) = password {
                    command.env("PGPASSWORD", password);
                }
                let output = command
                    .arg("--format=custom")
                    .arg("--schema")
                    .arg(slug.schema_name())
                    .arg("--file")
                    .arg(&path)
                    .arg("--dbname")
                    .arg(url)
                    .output()
                    .await
                    .context("running pg_dump (is the PostgreSQL client installed?)")?;
                if !output.status.success() {
                    return Err(AppError::internal(format!(
                        "pg_dump failed: {}",
                        String::from_utf8_lossy(&output.stderr).trim()
                    )));
                }
                Ok(path)
            }
            Backend::Sqlite { .. } => {
                let path = dir.join(format!("{}-{stamp}.db", slug.as_str()));
                // VACUUM INTO fills an empty file, keeping its mode.
                crate::private_fs::create_empty_if_missing(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let pool = self.sqlite_tenant_pool(tenant).await?;
                let target = path.to_string_lossy().replace('\'', "''");
                pool.execute_unprepared(&format!("VACUUM INTO '{target}'"))
                    .await?;
                Ok(path)
            }
        }
    }

    /// Applies the tenant migrations one tenant needs and marks storage older than its
    /// mark as the tenant's; returns how many migrations were applied.
    pub async fn migrate_tenant(&self, tenant: &Tenant) -> AppResult<usize> {
        let slug = &tenant.slug;
        // Not through `begin_tenant`: storage older than its mark has none to check.
        let (tx, sqlite_pool) = match &self.inner.backend {
            Backend::Postgres { tenants, .. } => {
                let tx = tenants.begin().await?;
                tx.execute_unprepared(&format!(
                    "{}; SELECT pg_advisory_xact_lock(hashtext('{}'))",
                    slug.set_local_search_path(),
                    slug.schema_name()
                ))
                .await?;
                (tx, None)
            }
            Backend::Sqlite { .. } => {
                let pool = self.open_sqlite_tenant_pool(slug, false).await?;
                let tx = pool
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?;
                (tx, Some(pool))
            }
        };
        let pending = TenantMigrator::get_pending_migrations(&tx).await?.len();
        if pending > 0 {
            TenantMigrator::up(&tx, None).await?;
        }
        claim_storage(&tx, tenant.id).await?;
        tx.commit().await?;
        if let Some(pool) = sqlite_pool {
            pool.close().await?;
        }
        Ok(pending)
    }

    /// The tenant's SQLite pool, opened on first use after its file was checked to be the
    /// tenant's (by id). A pool kept for another tenant of the same slug is not used.
    async fn sqlite_tenant_pool(&self, tenant: &Tenant) -> AppResult<DatabaseConnection> {
        let Backend::Sqlite { pools, .. } = &self.inner.backend else {
            return Err(AppError::internal("not a SQLite store"));
        };
        let key = tenant.slug.as_str().to_owned();
        if let Some((owner, pool)) = pools.get(&key).await
            && owner == tenant.id
        {
            return Ok(pool);
        }
        let pool = self.open_sqlite_tenant_pool(&tenant.slug, false).await?;
        let owner = storage_owner(&pool).await;
        if !matches!(owner, Ok(Some(owner)) if owner == tenant.id) {
            pool.close().await?;
            return match owner {
                Err(e) => Err(e),
                Ok(_) => Err(AppError::TenantNotFound),
            };
        }
        // Two requests may open it at once; the later one's pool replaces the earlier.
        pools.insert(key, (tenant.id, pool.clone())).await;
        Ok(pool)
    }

    async fn open_sqlite_tenant_pool(
        &self,
        slug: &Slug,
        create: bool,
    ) -> AppResult<DatabaseConnection> {
        let Backend::Sqlite { tenants_dir, .. } = &self.inner.backend else {
            return Err(AppError::internal("not a SQLite store"));
        };
        let file = sqlite_tenant_file(tenants_dir, slug);
        // Deleted with its tenant.
        if !create && !tokio::fs::try_exists(&file).await.unwrap_or(false) {
            return Err(AppError::TenantNotFound);
        }
        let pool = sqlite_pool(&file, create, SQLITE_TENANT_POOL_SIZE)
            .await
            .map_err(|e| AppError::internal(format!("opening tenant database: {e:#}")))?;
        Ok(counted(
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            &self.inner.statements,
        ))
    }
}

/// The tenant a storage belongs to, read outside any request's statement count.
async fn storage_owner(pool: &DatabaseConnection) -> AppResult<Option<uuid::Uuid>> {
    let row: Option<(uuid::Uuid,)> = sea_orm::sqlx::query_as("SELECT id FROM tenant_identity")
        .fetch_optional(pool.get_sqlite_connection_pool())
        .await
        .map_err(|e| AppError::internal(format!("reading a tenant's storage owner: {e}")))?;
    Ok(row.map(|(id,)| id))
}

/// Marks the storage `tx` works on as `tenant`'s, unless it already is; storage marked for
/// another tenant is refused.
async fn claim_storage(tx: &DatabaseTransaction, tenant: uuid::Uuid) -> AppResult<()> {
    use entity::tenant::tenant_identity;
    use sea_orm::{EntityTrait, Set};
    match tenant_identity::Entity::find().one(tx).await? {
        Some(found) if found.id == tenant => Ok(()),
        Some(found) => Err(AppError::internal(format!(
            "this storage belongs to tenant {}, not {tenant}",
            found.id
        ))),
        None => {
            tenant_identity::Entity::insert(tenant_identity::ActiveModel { id: Set(tenant) })
                .exec_without_returning(tx)
                .await?;
            Ok(())
        }
    }
}

/// Whether a database error names a schema or table that does not exist (SQLSTATE 3F000
/// or 42P01).
fn is_missing_storage(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (sea_orm::DbErr::Exec(RuntimeErr::SqlxError(inner))
    | sea_orm::DbErr::Query(RuntimeErr::SqlxError(inner))) = error
    else {
        return false;
    };
    matches!(&**inner, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("3F000" | "42P01")))
}

/// A `postgres://` URL without its password, and the password (decoded), for a child
/// process that takes it from its environment.
fn without_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("NEXO_DATABASE_URL is not a URL")?;
    let mut password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    if parsed.password().is_some() {
        let _ = parsed.set_password(None);
    }
    // A password given as a query parameter moves to the environment too.
    let query: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(key, value)| {
            if key == "password" {
                password = Some(value.into_owned());
                None
            } else {
                Some((key.into_owned(), value.into_owned()))
            }
        })
        .collect();
    if query.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(query);
    }
    Ok((parsed.into(), password))
}

fn sqlite_tenant_file(dir: &Path, slug: &Slug) -> PathBuf {
    dir.join(format!("{}.db", slug.as_str()))
}

/// WAL with `synchronous=FULL`: an acknowledged commit survives a power cut.
async fn sqlite_pool(
    path: &Path,
    create: bool,
    size: u32,
) -> anyhow::Result<sea_orm::sqlx::SqlitePool> {
    if create {
        // SQLite then keeps the file's mode, and gives it to its journal files.
        crate::private_fs::create_empty_if_missing(path)
            .with_context(|| format!("creating {}", path.display()))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    SqlitePoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .idle_timeout(Some(Duration::from_secs(60)))
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// How [`Store::begin_tenant`]'s scoping statement starts on PostgreSQL: transaction
/// control, which the statement count leaves out.
const SCOPE_TO_TENANT: &str = "SELECT set_config('search_path', $1, true)";

fn counted(mut conn: DatabaseConnection, statements: &Arc<AtomicU64>) -> DatabaseConnection {
    let statements = statements.clone();
    conn.set_metric_callback(move |info| {
        if !info.statement.sql.starts_with(SCOPE_TO_TENANT) {
            statements.fetch_add(1, Ordering::Relaxed);
        }
    });
    conn
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            without_password("postgres://nexo:s3cr%40t@db:5432/nexo?sslmode=require")
                .expect("parses");
        assert_eq!(url, "postgres://nexo@db:5432/nexo?sslmode=require");
        assert_eq!(password.as_deref(), Some("s3cr@t"));
        let (url, password) =
            without_password("postgres://db/nexo?user=nexo&password=hunter2").expect("parses");
        assert_eq!(url, "postgres://db/nexo?user=nexo");
        assert_eq!(password.as_deref(), Some("hunter2"));
        let (url, password) =
            without_password("postgres://postgres@127.0.0.1/test").expect("parses");
        assert_eq!(url, "postgres://postgres@127.0.0.1/test");
        assert_eq!(password, None);
    }
}
