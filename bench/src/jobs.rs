//! `jobs`: the job workers' fairness, throughput and idle cost. Tenant A queues `--jobs`
//! no-op jobs (100,000 by default) at once, then tenants B to J ten each: how long B-J's
//! jobs wait from their due time to their start while A's backlog runs (the workers serve
//! tenants in turn), how many no-op jobs the server runs per CPU-second, and, once nothing
//! is due, what the server's idle tenants cost in statements per second.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use api::{
    admin::service::{Plan, ProvisionRequest, provision_tenant},
    jobs,
    tenancy::{Tenant, TenantFilter, TenantTx},
    verticals::BenchNoop,
};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::Bench;

/// Jobs queued per transaction.
const CHUNK: usize = 5_000;
/// Jobs each of tenants B to J queues.
const FEW: usize = 10;

pub async fn jobs(bench: &Bench) -> anyhow::Result<String> {
    let setup = &bench.setup;
    let mut tenants = Vec::new();
    for letter in 'a'..='j' {
        let slug = format!("bench-jobs-{letter}");
        let provisioned = provision_tenant(
            setup,
            ProvisionRequest {
                slug: slug.clone(),
                name: format!("Bench jobs {letter}"),
                owner_email: format!("owner@{slug}.example"),
                plan: Plan::Enterprise,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("provisioning {slug}: {e:?}"))?;
        tenants.push(provisioned.tenant);
    }
    let (busy, quiet) = tenants.split_first().context("ten tenants")?;
    let count = bench.args.jobs;

    let queueing = Instant::now();
    queue(bench, busy, count).await?;
    let queued_in = queueing.elapsed().as_secs_f64();
    let before = bench.server.usage().await?;
    let busy_done_before = done(bench, busy).await?;
    let window = Instant::now();
    for tenant in quiet {
        queue(bench, tenant, FEW).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    for tenant in quiet {
        while done(bench, tenant).await? < FEW as u64 {
            if Instant::now() > deadline {
                bail!("jobs: tenant {} did not finish its {FEW} jobs", tenant.slug);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut waits = Vec::new();
    for tenant in quiet {
        waits.extend(waits_of(bench, tenant).await?);
    }
    let busy_left_then = count as u64 - done(bench, busy).await?;
    let deadline = Instant::now() + Duration::from_secs(120 + count as u64 / 20);
    while done(bench, busy).await? < count as u64 {
        if Instant::now() > deadline {
            bail!("jobs: tenant A did not finish its {count} jobs");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = window.elapsed().as_secs_f64();
    let used = bench.server.usage().await? - before;
    let ran = (count as u64 - busy_done_before + (FEW * quiet.len()) as u64) as f64;
    let cpu = used.server_cpu
        + if bench.postgres {
            used.postgres_cpu
        } else {
            0.0
        };

    // Idle: nothing due anywhere; what the workers (and everything else) ask of the
    // database while the server waits.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let live = setup
        .registry
        .count(&TenantFilter::default())
        .await
        .map_err(|e| anyhow::anyhow!("counting tenants: {e:?}"))?;
    let idle_window = Duration::from_secs_f64((bench.args.duration * 3.0).max(10.0));
    let idle_before = bench.server.usage().await?;
    tokio::time::sleep(idle_window).await;
    let idle = bench.server.usage().await? - idle_before;
    let idle_rate = idle.statements as f64 / idle_window.as_secs_f64();

    waits.sort_by(f64::total_cmp);
    let at = |q: f64| waits[((waits.len() - 1) as f64 * q).round() as usize];
    Ok(format!(
        "jobs: tenant A queued {count} no-op jobs ({queued_in:.1} s to insert), then tenants B-J {FEW} each \
         with {busy_left_then} of A's still to run when B-J were done: B-J's wait from due time to start \
         p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 < 2 s); {ran:.0} jobs in {elapsed:.1} s, \
         {:.0} per server CPU-second, {:.0} per CPU-second with the database; idle with {live} tenants: \
         {idle_rate:.2} statements/s over {:.0} s (and every NEXO_JOB_SWEEP_SECS, one statement per tenant)",
        at(0.50) * 1000.0,
        at(0.95) * 1000.0,
        waits.last().copied().unwrap_or_default() * 1000.0,
        ran / used.server_cpu.max(1e-9),
        ran / cpu.max(1e-9),
        idle_window.as_secs_f64(),
    ))
}

/// Queues `count` no-op jobs due now in `tenant`, as a change that asks for them would:
/// in the tenant's transaction, then the control-plane mark that wakes the workers.
async fn queue(bench: &Bench, tenant: &Tenant, count: usize) -> anyhow::Result<()> {
    let setup = &bench.setup;
    let shared = Arc::new(tenant.clone());
    let mut left = count;
    while left > 0 {
        let n = left.min(CHUNK);
        left -= n;
        let due = Utc::now();
        TenantTx::run(&setup.store, shared.clone(), move |tx| {
            Box::pin(async move {
                jobs::enqueue_many::<BenchNoop, _>(tx, (0..n).map(|_| ((), due))).await?;
                Ok(())
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("queueing jobs in {}: {e:?}", tenant.slug))?;
        setup.jobs.due(tenant.id, due).await;
    }
    Ok(())
}

async fn done(bench: &Bench, tenant: &Tenant) -> anyhow::Result<u64> {
    let rows = read(
        bench,
        tenant,
        "SELECT count(*) AS n FROM jobs WHERE state = 'done'",
    )
    .await?;
    let row = rows.first().context("a count")?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// Each job's wait from its due time to its start, in seconds.
async fn waits_of(bench: &Bench, tenant: &Tenant) -> anyhow::Result<Vec<f64>> {
    let rows = read(bench, tenant, "SELECT due_at, result FROM jobs").await?;
    rows.iter()
        .map(|row| {
            let due: DateTime<Utc> = row.try_get("", "due_at")?;
            let result: serde_json::Value = row.try_get("", "result")?;
            let started: DateTime<Utc> = serde_json::from_value(result["started_at"].clone())
                .context("a no-op job's start")?;
            Ok((started - due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6)
        })
        .collect()
}

async fn read(
    bench: &Bench,
    tenant: &Tenant,
    sql: &'static str,
) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    bench
        .setup
        .store
        .read(tenant, move |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_all_raw(Statement::from_string(tx.get_database_backend(), sql))
                    .await?)
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading {}'s jobs: {e:?}", tenant.slug))
}
