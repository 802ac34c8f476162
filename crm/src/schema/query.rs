//! CRM queries: open to every signed-in role.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Duration, Utc};
use entity::tenant::audit_entry;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{
    inputs::{
        ActivityFilterInput, CompanyFilterInput, ContactFilterInput, ContactOrder,
        OpportunityFilterInput, SortDirection,
    },
    objects::{
        ActivityNode, AuditEntryNode, CompanyNode, ContactNode, Conversion, OpportunityNode,
        PipelineNode, StageFigures,
    },
};
use crate::{
    service::{
        activities, companies, contacts, figures, find_contact, find_opportunity, pipelines,
    },
    types::ContactStatus,
};
use platform::{
    auth::Role,
    auth::RoleGuard,
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt,
        pagination::{Cursor, Page, PageConnection, PageRequest, SortKey, keyset, wants_total},
    },
    parse_id,
};

#[derive(Default)]
pub struct CrmQuery;

#[Object]
impl CrmQuery {
    /// Contacts matching `filter`, in `orderBy` order (default: creation).
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ContactFilterInput>,
        order_by: Option<ContactOrder>,
    ) -> GqlResult<Page<ContactNode>> {
        let principal = ctx.principal()?;
        let filter = filter.unwrap_or_default().parse(principal.user_id)?;
        let page = PageRequest::parse(first, after, last, before)?;
        Ok(contact_page(ctx, &filter, order_by, &page).await?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ContactNode> {
        let id = parse_id(&id, "id")?;
        Ok(ContactNode(find_contact(ctx.conn().await?, id).await?))
    }

    /// Leads gone quiet: contacts in status contacted or qualified with no activity (and,
    /// if never active, not created) in the last `days` days.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn cold_leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 7)] days: i32,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Page<ContactNode>> {
        if !(1..=3650).contains(&days) {
            return Err(AppError::bad_input("days", "days is between 1 and 3650").into());
        }
        let filter = contacts::ContactFilter {
            statuses: vec![ContactStatus::Contacted, ContactStatus::Qualified],
            inactive_since: Some(Utc::now() - Duration::days(i64::from(days))),
            ..Default::default()
        };
        let page = PageRequest::parse(first, after, last, before)?;
        Ok(contact_page(ctx, &filter, None, &page).await?)
    }

    /// Companies by name.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CompanyFilterInput>,
    ) -> GqlResult<Page<CompanyNode>> {
        let filter = filter.unwrap_or_default().parse()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = companies::list(conn, &filter, &page).await?;
        let total = if wants_total(ctx) {
            companies::count(conn, &filter).await? as i64
        } else {
            0
        };
        Ok(page.connection(
            rows,
            |c| Cursor::keyed(c.id, c.name_key.clone()),
            |c| Ok(CompanyNode(c)),
            total,
        )?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn company(&self, ctx: &Context<'_>, id: ID) -> GqlResult<CompanyNode> {
        let id = parse_id(&id, "id")?;
        Ok(CompanyNode(companies::find(ctx.conn().await?, id).await?))
    }

    /// This tenant's pipelines, in order.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::unbounded(child_complexity)"
    )]
    async fn pipelines(&self, ctx: &Context<'_>) -> GqlResult<Vec<PipelineNode>> {
        Ok(pipelines::list(ctx.conn().await?)
            .await?
            .into_iter()
            .map(PipelineNode::new)
            .collect())
    }

    /// One pipeline: with `stages { opportunities { nodes ... totalCount } }` this is the
    /// board, loaded in two statements (the pipeline with its stages and their totals, then
    /// every stage's first cards with their edges).
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn pipeline(&self, ctx: &Context<'_>, id: ID) -> GqlResult<PipelineNode> {
        let id = parse_id(&id, "id")?;
        let conn = ctx.conn().await?;
        // Its stages, and their columns' totals when selected, come in the same statement.
        let stages = ctx.look_ahead().field("stages");
        if !stages.exists() {
            return Ok(PipelineNode::new(pipelines::find(conn, id).await?));
        }
        let column = stages.field("opportunities");
        let totals = ["totalCount", "totalValue", "weightedValue"]
            .into_iter()
            .any(|field| column.field(field).exists());
        Ok(pipelines::board(conn, id, totals).await?.into())
    }

    /// Opportunities in creation order.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<OpportunityFilterInput>,
    ) -> GqlResult<Page<OpportunityNode>> {
        use crate::service::opportunities;
        let principal = ctx.principal()?;
        let filter = filter.unwrap_or_default().parse(principal.user_id)?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = opportunities::list(conn, &filter, &page).await?;
        let total = if wants_total(ctx) {
            opportunities::count(conn, &filter).await? as i64
        } else {
            0
        };
        Ok(page.connection(
            rows,
            |o| Cursor::id(o.id),
            |o| Ok(OpportunityNode::new(o)),
            total,
        )?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn opportunity(&self, ctx: &Context<'_>, id: ID) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        Ok(OpportunityNode::new(
            find_opportunity(ctx.conn().await?, id).await?,
        ))
    }

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
        let total = if wants_total(ctx) {
            activities::count(conn, &filter).await? as i64
        } else {
            0
        };
        Ok(page.connection(rows, |a| Cursor::id(a.id), |a| Ok(ActivityNode(a)), total)?)
    }

    /// Count, value and weighted value of each stage of a pipeline.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::unbounded(child_complexity)"
    )]
    async fn pipeline_figures(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
    ) -> GqlResult<Vec<StageFigures>> {
        let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
        Ok(figures::pipeline_figures(ctx.conn().await?, pipeline_id)
            .await?
            .into_iter()
            .map(StageFigures::try_from)
            .collect::<AppResult<_>>()?)
    }

    /// Win rate (opportunities closed in the range) and lead conversion (contacts created
    /// in the range who are customers now), optionally for one pipeline.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn conversion(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        pipeline_id: Option<ID>,
    ) -> GqlResult<Conversion> {
        let pipeline_id = pipeline_id
            .map(|id| parse_id(&id, "pipelineId"))
            .transpose()?;
        Ok(
            figures::conversion(ctx.conn().await?, from, to, pipeline_id)
                .await?
                .into(),
        )
    }

    /// The audit trail of one contact, company, opportunity, activity, pipeline or stage,
    /// oldest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        entity_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Page<AuditEntryNode>> {
        let entity_id = parse_id(&entity_id, "entityId")?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let select =
            audit_entry::Entity::find().filter(audit_entry::Column::EntityId.eq(entity_id));
        let mut rows = keyset(
            select.clone(),
            &page,
            SortKey::Id,
            audit_entry::Column::Id,
            false,
        )?
        .all(conn)
        .await
        .map_err(AppError::from)?;
        if page.backward {
            rows.reverse();
        }
        let total = if wants_total(ctx) {
            select.count(conn).await.map_err(AppError::from)? as i64
        } else {
            0
        };
        Ok(page.connection(rows, |e| Cursor::id(e.id), AuditEntryNode::try_from, total)?)
    }
}

async fn contact_page(
    ctx: &Context<'_>,
    filter: &contacts::ContactFilter,
    order_by: Option<ContactOrder>,
    page: &PageRequest,
) -> AppResult<Page<ContactNode>> {
    let (field, direction) = match order_by {
        Some(order) => (order.field, order.direction),
        None => (contacts::ContactOrderField::CreatedAt, SortDirection::Asc),
    };
    let conn = ctx.conn().await?;
    let rows = contacts::list(conn, filter, field, direction == SortDirection::Desc, page).await?;
    let total = if wants_total(ctx) {
        contacts::count(conn, filter).await? as i64
    } else {
        0
    };
    page.connection(
        rows,
        |c| Cursor {
            id: c.id,
            key: contacts::sort_key(c, field),
        },
        |c| Ok(ContactNode(c)),
        total,
    )
}
