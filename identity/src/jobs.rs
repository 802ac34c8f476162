//! The tenant's jobs over GraphQL, for its admins: what is queued, running, done or dead,
//! with its errors; retry and cancel.

use async_graphql::{Context, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use entity::tenant::job;
use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, GqlResult},
    graphql::{
        ContextExt,
        pagination::{
            Cursor, Page, PageConnection, PageRequest, SortKey, fetch_page, total_if_asked,
        },
    },
    id,
    jobs::{self, JobState},
    parse_id,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};

/// Work Nexo does after the change that asked for it (a message to send, a document to
/// render, a wait): retried after failures, dead once its attempts are spent.
pub struct JobNode(job::Model);

#[Object(name = "Job")]
impl JobNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// What it does: the name of its kind.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn state(&self) -> GqlResult<JobState> {
        Ok(JobState::from_stored(&self.0.state)?)
    }
    /// When it runs (again, after a failure).
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The latest errors, oldest first: `[{"attempt": n, "at": ..., "error": ...}]`.
    async fn errors(&self) -> Json<serde_json::Value> {
        Json(self.0.errors.clone())
    }
    async fn result(&self) -> Option<Json<serde_json::Value>> {
        self.0.result.clone().map(Json)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Default)]
pub struct JobFilterInput {
    pub state: Option<JobState>,
    pub kind: Option<String>,
}

#[derive(Default)]
pub struct JobsQuery;

#[Object]
impl JobsQuery {
    /// The tenant's jobs, newest first (admins and owners).
    #[graphql(
        guard = "RoleGuard::at_least(Role::Admin)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<JobFilterInput>,
    ) -> GqlResult<Page<JobNode>> {
        let filter = filter.unwrap_or_default();
        if filter.kind.as_ref().is_some_and(|kind| kind.len() > 64) {
            return Err(
                AppError::bad_input("filter.kind", "a job kind has at most 64 characters").into(),
            );
        }
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let condition = Condition::all()
            .add_option(filter.state.map(|s| job::Column::State.eq(s.as_str())))
            .add_option(filter.kind.map(|k| job::Column::Kind.eq(k)));
        let select = job::Entity::find().filter(condition);
        let rows = fetch_page(
            conn,
            select.clone(),
            &page,
            SortKey::Id,
            job::Column::Id,
            true,
        )
        .await?;
        let total = total_if_asked(ctx, async { Ok(select.count(conn).await?) }).await?;
        Ok(page.connection(rows, |j| Cursor::id(j.id), |j| Ok(JobNode(j)), total)?)
    }
}

#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Runs a dead, cancelled or queued job again now, its attempts counted afresh
    /// (`CONFLICT` for a running or done one).
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn retry_job(&self, ctx: &Context<'_>, id: ID) -> GqlResult<JobNode> {
        let id = parse_id(&id, "id")?;
        Ok(JobNode(
            jobs::retry(ctx.conn().await?, id, Utc::now()).await?,
        ))
    }

    /// Stops a job from running (again); a running one's outcome is not recorded
    /// (`CONFLICT` for a done one).
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn cancel_job(&self, ctx: &Context<'_>, id: ID) -> GqlResult<JobNode> {
        let id = parse_id(&id, "id")?;
        Ok(JobNode(
            jobs::cancel(ctx.conn().await?, id, Utc::now()).await?,
        ))
    }
}
