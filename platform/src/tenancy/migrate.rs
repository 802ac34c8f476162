//! `nexo migrate`: every tenant up to date, a few at a time.

use futures::{StreamExt, stream};

use super::{MigrationReport, Registry, Store};
use crate::error::AppError;

/// Migrates every live tenant, `concurrency` at a time, calling `progress` after each with
/// (done, total, slug, migrations applied or the error). One tenant's failure does not stop
/// the others; it is listed in the report.
pub async fn migrate_tenants(
    store: &Store,
    registry: &Registry,
    concurrency: usize,
    progress: impl Fn(usize, usize, &str, Result<usize, &AppError>),
) -> Result<MigrationReport, AppError> {
    let tenants = registry.all_live().await?;
    let total = tenants.len();
    let mut report = MigrationReport {
        tenants: total,
        ..Default::default()
    };
    let mut outcomes = stream::iter(tenants)
        .map(|tenant| async move {
            let outcome = store.migrate_tenant(&tenant).await;
            (tenant, outcome)
        })
        .buffer_unordered(concurrency.max(1));
    let mut done = 0;
    while let Some((tenant, outcome)) = outcomes.next().await {
        done += 1;
        match &outcome {
            Ok(applied) => report.tenant_migrations_applied += applied,
            Err(e) => {
                tracing::error!(tenant = %tenant.slug, error = ?e, "tenant migration failed");
                report.failed.push(tenant.slug.to_string());
            }
        }
        progress(
            done,
            total,
            tenant.slug.as_str(),
            outcome.as_ref().map(|n| *n),
        );
    }
    Ok(report)
}
