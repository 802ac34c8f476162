//! Activities over GraphQL.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::tenant::activity;
use identity::schema::UserNode;
use platform::{
    auth::{Role, RoleGuard},
    error::{AppResult, GqlResult},
    graphql::{
        ContextExt, load_one,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};

use crate::{
    activities::{self, ActivityFilter, NewActivity},
    contacts::{loader::ContactById, schema::ContactNode},
    opportunities::{loader::OpportunityById, schema::OpportunityNode},
    shared::{id, opt_id, optional_text, required_text, user},
    types::ActivityKind,
};

#[derive(InputObject)]
pub struct LogActivityInput {
    pub kind: ActivityKind,
    pub subject: String,
    pub body: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub contact_id: Option<ID>,
    pub opportunity_id: Option<ID>,
}

impl LogActivityInput {
    pub fn parse(self) -> AppResult<NewActivity> {
        Ok(NewActivity {
            kind: self.kind,
            subject: required_text(&self.subject, "subject", 200)?,
            body: optional_text(self.body.as_deref(), "body", 20_000)?,
            due_at: self.due_at,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            opportunity_id: opt_id(self.opportunity_id.as_ref(), "opportunityId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct ActivityFilterInput {
    pub kind: Option<Vec<ActivityKind>>,
    /// Open tasks past their due time (or, with false, everything else).
    pub overdue: Option<bool>,
    pub due_after: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub contact_id: Option<ID>,
    pub opportunity_id: Option<ID>,
}

impl ActivityFilterInput {
    pub fn parse(self) -> AppResult<ActivityFilter> {
        Ok(ActivityFilter {
            kinds: self.kind.unwrap_or_default(),
            overdue: self.overdue,
            due_after: self.due_after,
            due_before: self.due_before,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            opportunity_id: opt_id(self.opportunity_id.as_ref(), "opportunityId")?,
        })
    }
}

pub struct ActivityNode(pub activity::Model);

impl ActivityNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("kind", &["kind"]),
        ("subject", &["subject"]),
        ("body", &["body"]),
        ("dueAt", &["due_at"]),
        ("completedAt", &["completed_at"]),
        ("overdue", &["kind", "completed_at", "due_at"]),
        ("contact", &["contact_id"]),
        ("opportunity", &["opportunity_id"]),
        ("author", &["author_id"]),
        ("createdAt", &["created_at"]),
    ];
}

/// A call, email, meeting, WhatsApp message, note or task.
#[Object(name = "Activity", serial)]
impl ActivityNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn kind(&self) -> GqlResult<ActivityKind> {
        Ok(ActivityKind::from_stored(&self.0.kind)?)
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// An open task past its due time.
    async fn overdue(&self) -> bool {
        self.0.kind == ActivityKind::Task.as_str()
            && self.0.completed_at.is_none()
            && self.0.due_at.is_some_and(|due| due < Utc::now())
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        let Some(contact_id) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact_id)
            .await?
            .map(ContactNode))
    }
    async fn opportunity(&self, ctx: &Context<'_>) -> GqlResult<Option<OpportunityNode>> {
        let Some(opportunity_id) = self.0.opportunity_id else {
            return Ok(None);
        };
        Ok(load_one::<OpportunityById, _>(ctx, opportunity_id)
            .await?
            .map(OpportunityNode::new))
    }
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.author_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct ActivitiesQuery;

#[Object]
impl ActivitiesQuery {
    /// Activities, newest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ActivityFilterInput>,
    ) -> GqlResult<Page<ActivityNode>> {
        let filter = filter.unwrap_or_default().parse()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = activities::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, activities::count(conn, &filter)).await?;
        Ok(page.connection(rows, |a| Cursor::id(a.id), |a| Ok(ActivityNode(a)), total)?)
    }
}

#[derive(Default)]
pub struct ActivitiesMutation;

#[Object]
impl ActivitiesMutation {
    /// Logs a call, email, meeting, WhatsApp message, note or task against a contact
    /// and/or an opportunity; the contact's `lastActivityAt` becomes now.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn log_activity(
        &self,
        ctx: &Context<'_>,
        input: LogActivityInput,
    ) -> GqlResult<ActivityNode> {
        let new = input.parse()?;
        Ok(ActivityNode(
            activities::log(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ActivityNode> {
        let id = parse_id(&id, "id")?;
        Ok(ActivityNode(
            activities::complete_task(ctx.conn().await?, ctx.principal()?, id).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_activity(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        activities::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }
}
