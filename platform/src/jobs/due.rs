//! Which tenants have jobs due, known without asking every tenant. The control plane keeps
//! one row per tenant that may have work (`tenant_due_work`: "due at or after `due_at`"),
//! written after the tenant's commit, never inside it: a tenant's transaction stays within
//! its own schema or file. Workers read the earliest rows in one query, look inside only
//! those tenants, and then move the row to what they found ([`settle`]).
//!
//! A row is only ever too early, never too late: marks keep the earlier time, and a worker
//! moves a row later only if no mark came in since it read the row (`version`). A crash
//! between a tenant's commit and its mark loses the mark; the workers' sweep finds such
//! tenants when they start, and again now and then.

use chrono::{DateTime, Utc};
use entity::control::tenant;
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult};
use uuid::Uuid;

use crate::{
    db::sql::Sql,
    error::AppResult,
    tenancy::{Store, Tenant, TenantStatus, TxMode},
};

/// A tenant with work due at `due_at`, as its row stood when read.
#[derive(Debug, Clone)]
pub struct DueTenant {
    pub tenant: Tenant,
    pub due_at: DateTime<Utc>,
    pub version: i64,
}

/// Records that `tenant` has work due at `due_at` (kept if the row says earlier).
pub async fn mark(
    control: &DatabaseConnection,
    tenant: Uuid,
    due_at: DateTime<Utc>,
) -> AppResult<()> {
    let mut sql = Sql::on(control);
    let earlier = if sql.is_postgres() { "LEAST" } else { "min" };
    let text = format!(
        "INSERT INTO tenant_due_work (tenant_id, due_at, version) VALUES ({tenant}, {due_at}, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET \
         due_at = {earlier}(tenant_due_work.due_at, excluded.due_at), \
         version = tenant_due_work.version + 1",
        tenant = sql.bind(tenant),
        due_at = sql.bind(due_at),
    );
    control.execute_raw(sql.statement(text)).await?;
    Ok(())
}

/// The `limit` earliest rows of active tenants (a suspended tenant's jobs wait for it to
/// be resumed), earliest first.
pub async fn earliest(control: &DatabaseConnection, limit: u64) -> AppResult<Vec<DueTenant>> {
    let mut sql = Sql::on(control);
    let text = format!(
        "SELECT t.*, d.due_at AS due_work_at, d.version AS due_work_version \
         FROM tenant_due_work d JOIN tenants t ON t.id = d.tenant_id \
         WHERE t.status = {active} ORDER BY d.due_at LIMIT {limit}",
        active = sql.bind(TenantStatus::Active.as_str()),
        limit = sql.bind(limit as i64),
    );
    control
        .query_all_raw(sql.statement(text))
        .await?
        .iter()
        .map(|row| {
            Ok(DueTenant {
                tenant: tenant::Model::from_query_result(row, "")?.try_into()?,
                due_at: row.try_get("", "due_work_at")?,
                version: row.try_get("", "due_work_version")?,
            })
        })
        .collect()
}

/// Moves `due`'s row to `next`, what a worker found inside the tenant after reading the
/// row: later only if no mark came in since (the row's version is unchanged), earlier
/// always. With nothing left (`None`) the row goes, on the same condition. Returns the
/// row's new version when it was moved.
pub async fn settle(
    control: &DatabaseConnection,
    due: &DueTenant,
    next: Option<DateTime<Utc>>,
) -> AppResult<Option<i64>> {
    let mut sql = Sql::on(control);
    let text = match next {
        Some(next) => format!(
            "UPDATE tenant_due_work SET due_at = {next}, version = version + 1 \
             WHERE tenant_id = {tenant} AND (version = {version} OR due_at > {next_again}) \
             RETURNING version",
            next = sql.bind(next),
            tenant = sql.bind(due.tenant.id),
            version = sql.bind(due.version),
            next_again = sql.bind(next),
        ),
        None => format!(
            "DELETE FROM tenant_due_work WHERE tenant_id = {tenant} AND version = {version}",
            tenant = sql.bind(due.tenant.id),
            version = sql.bind(due.version),
        ),
    };
    let moved = control.query_one_raw(sql.statement(text)).await?;
    Ok(match moved {
        Some(row) => Some(row.try_get("", "version")?),
        None => None,
    })
}

/// The tenant's next due time for any worker (whatever kinds it handles), read in a
/// transaction of its own.
pub async fn look_inside(store: &Store, tenant: &Tenant) -> AppResult<Option<DateTime<Utc>>> {
    let tx = store.begin_tenant(tenant, TxMode::Read).await?;
    let next = super::store::next_due(&tx).await?;
    tx.commit().await?;
    Ok(next)
}
