//! The job store. A job is a row in the tenant's own
//! `jobs` table, written in the transaction of the change that asks for it, so a rolled-back
//! change schedules nothing and a committed one is never forgotten. A timer is a job whose
//! due time is later. Workers take due jobs under a lease: each lease raises the job's
//! `fence`, and a worker's outcome is written only with the fence it was given, so a worker
//! that stalled past its lease, and lost the job to another, cannot record anything.
//!
//! Every function takes the time it acts at, so that leases and backoff are decided by the
//! caller's clock (and tests need no sleeping).

use chrono::{DateTime, Duration, Utc};
use entity::tenant::job;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set,
    sea_query::Expr,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db::sql::Sql,
    error::{AppError, AppResult},
};

crate::stored_enum!(
    /// Where a job stands.
    JobState {
        /// Waiting for its due time, or for a worker.
        Queued => "queued",
        /// Held by a worker until its lease ends.
        Running => "running",
        Done => "done",
        /// Failed as many times as its kind allows; retried only by an admin.
        Dead => "dead",
        Cancelled => "cancelled",
    }
);

/// A kind of job: its name on the row, its payload's type, how often it is tried and how
/// long one attempt may take.
pub trait JobKind {
    const KIND: &'static str;
    type Payload: Serialize + DeserializeOwned + Send;
    /// Attempts before the job is dead.
    const MAX_ATTEMPTS: i32 = 8;
    /// How long a worker holds the job before another may take it over; an attempt that
    /// runs longer is given up by its worker.
    const LEASE: std::time::Duration = std::time::Duration::from_secs(60);
}

/// The kinds a worker takes, each with how long its lease lasts. A worker takes only the
/// kinds it has handlers for: during a rolling upgrade an older worker leaves a new kind's
/// jobs to the workers that know it.
#[derive(Clone, Debug)]
pub struct Handled {
    /// Every kind, with this lease (`None`: only the kinds in `kinds`).
    any: Option<Duration>,
    kinds: Vec<(&'static str, Duration)>,
}

impl Handled {
    /// Every kind, with the same lease.
    pub fn any(lease: Duration) -> Self {
        Self {
            any: Some(lease),
            kinds: Vec::new(),
        }
    }

    /// No kind yet.
    pub fn none() -> Self {
        Self {
            any: None,
            kinds: Vec::new(),
        }
    }

    /// Also `kind`, leased for `lease`.
    pub fn with(mut self, kind: &'static str, lease: Duration) -> Self {
        self.kinds.push((kind, lease));
        self
    }

    /// ` AND kind IN (...)` when only some kinds are handled.
    fn filter(&self, sql: &mut Sql) -> String {
        if self.any.is_some() {
            return String::new();
        }
        if self.kinds.is_empty() {
            return " AND 1 = 0".into();
        }
        format!(
            " AND kind IN ({})",
            sql.bind_list(self.kinds.iter().map(|(kind, _)| *kind))
        )
    }
}

/// How many errors a job keeps in its history (the latest).
const ERROR_HISTORY: usize = 20;

/// Schedules a `K` job with `payload`, due at `due_at`, in the transaction of `conn`.
pub async fn enqueue<K: JobKind, C: ConnectionTrait>(
    conn: &C,
    payload: &K::Payload,
    due_at: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    new_job::<K>(id, payload, due_at, Utc::now())?
        .insert(conn)
        .await?;
    Ok(id)
}

/// Jobs scheduled at once after which [`enqueue_many`] refreshes the table's statistics.
const ANALYZE_AFTER: usize = 1_000;

/// Schedules a `K` job for each of `orders` (payload and due time) in the transaction of
/// `conn`, in multi-row inserts: an import's or a campaign's thousands at once.
pub async fn enqueue_many<K: JobKind, C: ConnectionTrait>(
    conn: &C,
    orders: impl IntoIterator<Item = (K::Payload, DateTime<Utc>)>,
) -> AppResult<Vec<Uuid>> {
    // Under SQLite's limit of bound values per statement (14 columns a row).
    const ROWS_PER_INSERT: usize = 500;
    let now = Utc::now();
    let mut ids = Vec::new();
    let mut rows = Vec::with_capacity(ROWS_PER_INSERT);
    let mut orders = orders.into_iter().peekable();
    while let Some((payload, due_at)) = orders.next() {
        let id = Uuid::now_v7();
        ids.push(id);
        rows.push(new_job::<K>(id, &payload, due_at, now)?);
        if rows.len() == ROWS_PER_INSERT || orders.peek().is_none() {
            job::Entity::insert_many(std::mem::take(&mut rows))
                .exec_without_returning(conn)
                .await?;
        }
    }
    // Thousands of new rows at once: PostgreSQL's planner learns of them now rather than at
    // autovacuum's next round, or it would sort every due job to take the first few.
    if ids.len() >= ANALYZE_AFTER && conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_unprepared("ANALYZE jobs").await?;
    }
    Ok(ids)
}

fn new_job<K: JobKind>(
    id: Uuid,
    payload: &K::Payload,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<job::ActiveModel> {
    let payload = serde_json::to_value(payload)
        .map_err(|e| AppError::internal(format!("a {} payload did not serialize: {e}", K::KIND)))?;
    Ok(job::ActiveModel {
        id: Set(id),
        kind: Set(K::KIND.to_owned()),
        payload: Set(payload),
        state: Set(JobState::Queued.as_str().to_owned()),
        due_at: Set(due_at),
        attempts: Set(0),
        max_attempts: Set(K::MAX_ATTEMPTS),
        fence: Set(0),
        lease_until: Set(None),
        last_error: Set(None),
        errors: Set(json!([])),
        result: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// A job's payload read as `K`'s.
pub fn payload<K: JobKind>(job: &job::Model) -> AppResult<K::Payload> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| AppError::internal(format!("a {} payload did not read back: {e}", K::KIND)))
}

/// Leases up to `limit` jobs that are due at `now` (running with a lease that has ended,
/// then queued and due), each until `now` and its kind's lease, earliest due first. Each
/// comes with its new `fence`, which the worker presents with its outcome. On PostgreSQL,
/// jobs another worker is leasing at the same moment are skipped, not waited for.
pub async fn take_due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    handled: &Handled,
    limit: u64,
) -> AppResult<Vec<job::Model>> {
    // Two statements, each reading the (state, due_at) index in order and stopping at its
    // limit: one condition of the two ORed together would sort every due job first.
    let mut taken = lease(conn, now, handled, limit, JobState::Running).await?;
    let left = limit.saturating_sub(taken.len() as u64);
    if left > 0 {
        taken.extend(lease(conn, now, handled, left, JobState::Queued).await?);
    }
    taken.sort_by_key(|job| (job.due_at, job.id));
    Ok(taken)
}

/// Leases up to `limit` due jobs in `state`: `Running` ones whose lease has ended, or
/// `Queued` ones whose time has come.
async fn lease<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    handled: &Handled,
    limit: u64,
    state: JobState,
) -> AppResult<Vec<job::Model>> {
    let mut sql = Sql::on(conn);
    let skip_locked = if sql.is_postgres() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    // Placeholders are bound in the order they appear in the text.
    let running = sql.bind(JobState::Running.as_str());
    let fallback = handled.any.unwrap_or_else(Duration::zero);
    let until = if handled.kinds.is_empty() {
        sql.bind(now + fallback)
    } else {
        let mut until = String::from("CASE kind");
        for (kind, lease) in &handled.kinds {
            until.push_str(&format!(
                " WHEN {} THEN {}",
                sql.bind(*kind),
                sql.bind(now + *lease)
            ));
        }
        until.push_str(&format!(" ELSE {} END", sql.bind(now + fallback)));
        until
    };
    let now_set = sql.bind(now);
    let state_is = sql.bind(state.as_str());
    let due = match state {
        JobState::Running => format!("lease_until < {}", sql.bind(now)),
        _ => format!("due_at <= {}", sql.bind(now)),
    };
    let kinds = handled.filter(&mut sql);
    let limit = sql.bind(limit as i64);
    let text = format!(
        "UPDATE jobs SET state = {running}, fence = fence + 1, attempts = attempts + 1, \
         lease_until = {until}, updated_at = {now_set} WHERE id IN (SELECT id FROM jobs \
         WHERE state = {state_is} AND {due}{kinds} \
         ORDER BY due_at LIMIT {limit}{skip_locked}) RETURNING *",
    );
    Ok(job::Model::find_by_statement(sql.statement(text))
        .all(conn)
        .await?)
}

/// Begins an outcome: checks that the lease given with `fence` is still held and, on
/// PostgreSQL, locks the job's row until the transaction ends, so that no other worker
/// takes the job over while its outcome and its handler's writes commit (SQLite's writers
/// are serialised already). Refused (`CONFLICT`) when the lease was lost.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    fence: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let claimed = job::Entity::update_many()
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(held(id, fence))
        .exec(conn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(lost_lease());
    }
    Ok(())
}

/// Records that the job leased with `fence` succeeded, with its `result`. Refused
/// (`CONFLICT`) when the lease was lost: another worker took the job over, or it was
/// cancelled; nothing is written then.
pub async fn complete<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    fence: i64,
    result: Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let done = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Done.as_str()))
        .col_expr(job::Column::Result, Expr::value(result))
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(held(id, fence))
        .exec(conn)
        .await?;
    if done.rows_affected == 0 {
        return Err(lost_lease());
    }
    Ok(())
}

/// Records that the attempt leased with `fence` failed with `error`: the job is queued
/// again after a backoff, or dead once its attempts are spent. Refused (`CONFLICT`) when
/// the lease was lost. Returns the job as it now is.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    fence: i64,
    error: &str,
    now: DateTime<Utc>,
) -> AppResult<job::Model> {
    let current = job::Entity::find()
        .filter(held(id, fence))
        .one(conn)
        .await?
        .ok_or_else(lost_lease)?;
    let mut errors = current.errors.as_array().cloned().unwrap_or_default();
    errors.push(json!({"attempt": current.attempts, "at": now, "error": error}));
    let excess = errors.len().saturating_sub(ERROR_HISTORY);
    errors.drain(..excess);
    let (state, due_at) = if current.attempts >= current.max_attempts {
        (JobState::Dead, current.due_at)
    } else {
        (JobState::Queued, now + backoff(current.attempts))
    };
    let updated = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(state.as_str()))
        .col_expr(job::Column::DueAt, Expr::value(due_at))
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LastError, Expr::value(error))
        .col_expr(job::Column::Errors, Expr::value(Value::Array(errors)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(held(id, fence))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(lost_lease());
    }
    find(conn, id).await
}

/// An admin's retry: a dead, cancelled or queued job runs again now, with its attempts
/// counted afresh. A running or done job is refused (`CONFLICT`).
pub async fn retry<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<job::Model> {
    let current = find(conn, id).await?;
    let state = JobState::from_stored(&current.state)?;
    if matches!(state, JobState::Running | JobState::Done) {
        return Err(AppError::Conflict(format!(
            "a {} job is not retried",
            state.as_str()
        )));
    }
    let mut job: job::ActiveModel = current.into();
    job.state = Set(JobState::Queued.as_str().to_owned());
    job.due_at = Set(now);
    job.attempts = Set(0);
    job.updated_at = Set(now);
    Ok(job.update(conn).await?)
}

/// An admin's cancel: the job will not run (again). A running job's worker loses its lease
/// (the fence moves on), so its outcome is not recorded. A done job is refused (`CONFLICT`).
pub async fn cancel<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<job::Model> {
    let current = find(conn, id).await?;
    if JobState::from_stored(&current.state)? == JobState::Done {
        return Err(AppError::Conflict("a done job is not cancelled".into()));
    }
    let fence = current.fence + 1;
    let mut job: job::ActiveModel = current.into();
    job.state = Set(JobState::Cancelled.as_str().to_owned());
    job.fence = Set(fence);
    job.lease_until = Set(None);
    job.updated_at = Set(now);
    Ok(job.update(conn).await?)
}

/// When the tenant next has work for some worker: its earliest queued job's due time, or
/// the end of the earliest lease (a worker that died leaves its job to be taken over then).
pub async fn next_due<C: ConnectionTrait>(conn: &C) -> AppResult<Option<DateTime<Utc>>> {
    let mut sql = Sql::on(conn);
    let text = format!(
        "SELECT (SELECT due_at FROM jobs WHERE state = {queued} ORDER BY due_at LIMIT 1) AS queued, \
         (SELECT min(lease_until) FROM jobs WHERE state = {running}) AS leased",
        queued = sql.bind(JobState::Queued.as_str()),
        running = sql.bind(JobState::Running.as_str()),
    );
    let Some(row) = conn.query_one_raw(sql.statement(text)).await? else {
        return Ok(None);
    };
    let queued: Option<DateTime<Utc>> = row.try_get("", "queued")?;
    let leased: Option<DateTime<Utc>> = row.try_get("", "leased")?;
    Ok(queued.into_iter().chain(leased).min())
}

/// Jobs of one kind waiting past their due time in a tenant.
#[derive(Debug, FromQueryResult)]
pub struct Waiting {
    pub kind: String,
    pub queued: i64,
    pub oldest_due: DateTime<Utc>,
}

/// The tenant's jobs that are due at `now` and not yet taken, by kind.
pub async fn waiting<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> AppResult<Vec<Waiting>> {
    let mut sql = Sql::on(conn);
    let text = format!(
        "SELECT kind, count(*) AS queued, min(due_at) AS oldest_due FROM jobs \
         WHERE state = {queued} AND due_at <= {now} GROUP BY kind",
        queued = sql.bind(JobState::Queued.as_str()),
        now = sql.bind(now),
    );
    Ok(Waiting::find_by_statement(sql.statement(text))
        .all(conn)
        .await?)
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<job::Model> {
    crate::db::find_by_id::<job::Entity, _>(conn, id, "job").await
}

/// The wait before attempt `attempt + 1`: 2 s doubled with each attempt, at most an hour,
/// each wait between 80% and 120% of that so that jobs that failed together spread out.
pub fn backoff(attempt: i32) -> Duration {
    let base = 2_000i64.saturating_mul(1i64 << attempt.clamp(1, 20).saturating_sub(1));
    let capped = base.min(3_600_000);
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::milliseconds((capped as f64 * jitter) as i64)
}

/// The job `id` as leased with `fence`.
fn held(id: Uuid, fence: i64) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(job::Column::Id.eq(id))
        .add(job::Column::Fence.eq(fence))
        .add(job::Column::State.eq(JobState::Running.as_str()))
}

fn lost_lease() -> AppError {
    AppError::Conflict("the job's lease was lost: its outcome is not recorded".into())
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_an_hour() {
        for attempt in 1..=30 {
            let wait = backoff(attempt).num_milliseconds();
            let base = (2_000i64 << (attempt.min(21) - 1)).min(3_600_000);
            assert!(
                (base * 8 / 10..=base * 12 / 10).contains(&wait),
                "attempt {attempt}: {wait} ms against {base}"
            );
        }
    }
}
