//! Opportunities over GraphQL.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::{opportunity, stage_change};
use identity::schema::UserNode;
use platform::{
    auth::{Role, RoleGuard},
    error::{AppResult, GqlResult},
    graphql::{
        ContextExt, Money, load_one, money,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};

use crate::{
    activities::schema::ActivityNode,
    companies::{loader::CompanyById, schema::CompanyNode},
    contacts::{loader::ContactById, schema::ContactNode},
    opportunities::{
        self, NewOpportunity, OpportunityChanges, OpportunityFilter,
        loader::{LatestActivity, StageHistory},
        placement::move_to,
    },
    pipelines::{
        loader::{PipelineById, StageById},
        schema::{PipelineNode, StageNode},
    },
    shared::{MoneyInput, Patch, find_opportunity, id, opt_id, patch_id, required_text, user},
    types::{OpportunityStatus, StageKind},
};

#[derive(InputObject)]
pub struct CreateOpportunityInput {
    pub title: String,
    /// Default: the default pipeline (ignored when `stageId` is given, which must belong to it).
    pub pipeline_id: Option<ID>,
    /// Default: the pipeline's first open stage.
    pub stage_id: Option<ID>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
    pub value: MoneyInput,
    pub expected_close_date: Option<NaiveDate>,
}

impl CreateOpportunityInput {
    pub fn parse(self) -> AppResult<NewOpportunity> {
        Ok(NewOpportunity {
            title: required_text(&self.title, "title", 200)?,
            pipeline_id: opt_id(self.pipeline_id.as_ref(), "pipelineId")?,
            stage_id: opt_id(self.stage_id.as_ref(), "stageId")?,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            value: self.value.parse("value")?,
            expected_close_date: self.expected_close_date,
        })
    }
}

#[derive(InputObject, Default)]
pub struct UpdateOpportunityInput {
    pub title: Option<String>,
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    pub owner_id: MaybeUndefined<ID>,
    pub value: Option<MoneyInput>,
    pub expected_close_date: MaybeUndefined<NaiveDate>,
}

impl UpdateOpportunityInput {
    pub fn parse(self) -> AppResult<OpportunityChanges> {
        Ok(OpportunityChanges {
            title: self
                .title
                .as_deref()
                .map(|t| required_text(t, "title", 200))
                .transpose()?,
            contact_id: patch_id(self.contact_id, "contactId")?,
            company_id: patch_id(self.company_id, "companyId")?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
            value: self.value.map(|v| v.parse("value")).transpose()?,
            expected_close_date: Patch::from_graphql(self.expected_close_date),
        })
    }
}

#[derive(InputObject, Default)]
pub struct OpportunityFilterInput {
    pub pipeline_id: Option<ID>,
    pub stage_id: Option<ID>,
    pub status: Option<Vec<OpportunityStatus>>,
    pub owner_id: Option<ID>,
    /// Only the caller's opportunities.
    pub mine: Option<bool>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// Part of the title.
    pub search: Option<String>,
}

impl OpportunityFilterInput {
    pub fn parse(self, caller: uuid::Uuid) -> AppResult<OpportunityFilter> {
        let owner_id = match self.mine {
            Some(true) => Some(caller),
            _ => opt_id(self.owner_id.as_ref(), "ownerId")?,
        };
        Ok(OpportunityFilter {
            pipeline_id: opt_id(self.pipeline_id.as_ref(), "pipelineId")?,
            stage_id: opt_id(self.stage_id.as_ref(), "stageId")?,
            statuses: self.status.unwrap_or_default(),
            owner_id,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            search: self.search,
        })
    }
}

/// An opportunity, with what is already known of it: its stage's probability on the board,
/// and its edges when a subscription loaded them once for all its subscribers.
pub struct OpportunityNode(
    pub opportunity::Model,
    pub Option<i16>,
    pub Option<Arc<crate::pipelines::board::Edges>>,
);

impl OpportunityNode {
    /// An opportunity whose stage's probability is not at hand.
    pub fn new(model: opportunity::Model) -> Self {
        Self(model, None, None)
    }
}

/// A deal in a pipeline.
#[Object(name = "Opportunity", serial)]
impl OpportunityNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn value(&self) -> GqlResult<Money> {
        Ok(money(self.0.value_amount, &self.0.currency)?)
    }
    /// value x the stage's win probability.
    async fn weighted_value(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        // On the board the stage is known; elsewhere it is loaded.
        let known = self.1.or_else(|| {
            self.2
                .as_ref()
                .and_then(|e| e.stage.as_ref())
                .map(|s| s.probability)
        });
        let probability = match known {
            Some(probability) => probability,
            None => load_one::<StageById, _>(ctx, self.0.stage_id)
                .await?
                .map(|s| s.probability)
                .unwrap_or(0),
        };
        Ok(money(
            opportunities::weighted(self.0.value_amount, probability),
            &self.0.currency,
        )?)
    }
    async fn status(&self) -> GqlResult<OpportunityStatus> {
        Ok(OpportunityStatus::from_stored(&self.0.status)?)
    }
    async fn lost_reason(&self) -> Option<&str> {
        self.0.lost_reason.as_deref()
    }
    async fn expected_close_date(&self) -> Option<NaiveDate> {
        self.0.expected_close_date
    }
    /// Order within its stage, from 0.
    async fn position(&self) -> i64 {
        self.0.position
    }
    async fn stage_entered_at(&self) -> DateTime<Utc> {
        self.0.stage_entered_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.contact.clone().map(ContactNode));
        }
        let Some(contact_id) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact_id)
            .await?
            .map(ContactNode))
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.company.clone().map(CompanyNode));
        }
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company_id)
            .await?
            .map(CompanyNode))
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.owner.clone().map(UserNode::try_from).transpose()?);
        }
        user(ctx, self.0.owner_id).await
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> GqlResult<Option<PipelineNode>> {
        Ok(load_one::<PipelineById, _>(ctx, self.0.pipeline_id)
            .await?
            .map(PipelineNode::new))
    }
    async fn stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.stage.clone().map(StageNode::new));
        }
        Ok(load_one::<StageById, _>(ctx, self.0.stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn latest_activity(&self, ctx: &Context<'_>) -> GqlResult<Option<ActivityNode>> {
        if let Some(Some(known)) = self.2.as_ref().map(|e| &e.latest_activity) {
            return Ok(known.clone().map(ActivityNode));
        }
        Ok(load_one::<LatestActivity, _>(ctx, self.0.id)
            .await?
            .map(ActivityNode))
    }
    /// Every stage change, oldest first (the first is the stage it was created in).
    #[graphql(complexity = "platform::graphql::complexity::unbounded(child_complexity)")]
    async fn stage_history(&self, ctx: &Context<'_>) -> GqlResult<Vec<StageChangeNode>> {
        Ok(load_one::<StageHistory, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(StageChangeNode)
            .collect())
    }
}

pub struct StageChangeNode(pub stage_change::Model);

/// A move of an opportunity between stages.
#[Object(name = "StageChange")]
impl StageChangeNode {
    /// `null` for the stage an opportunity was created in.
    async fn from_stage_id(&self) -> Option<ID> {
        self.0.from_stage_id.map(id)
    }
    async fn to_stage_id(&self) -> ID {
        id(self.0.to_stage_id)
    }
    /// `null` when created, or when the stage was deleted since.
    async fn from_stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        let Some(stage_id) = self.0.from_stage_id else {
            return Ok(None);
        };
        Ok(load_one::<StageById, _>(ctx, stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn to_stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        Ok(load_one::<StageById, _>(ctx, self.0.to_stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn changed_by(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.changed_by).await
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

#[derive(Default)]
pub struct OpportunitiesQuery;

#[Object]
impl OpportunitiesQuery {
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
        let principal = ctx.principal()?;
        let filter = filter.unwrap_or_default().parse(principal.user_id)?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = opportunities::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, opportunities::count(conn, &filter)).await?;
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
}

#[derive(Default)]
pub struct OpportunitiesMutation;

#[Object]
impl OpportunitiesMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_opportunity(
        &self,
        ctx: &Context<'_>,
        input: CreateOpportunityInput,
    ) -> GqlResult<OpportunityNode> {
        let new = input.parse()?;
        Ok(OpportunityNode::new(
            opportunities::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    /// Changes an opportunity's fields (use `moveOpportunity` for its stage).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_opportunity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateOpportunityInput,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(OpportunityNode::new(
            opportunities::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Moves an opportunity to a stage of its pipeline at `position` within it (default:
    /// the end). Moving into a won or lost stage closes it; back into an open one reopens it.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn move_opportunity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        stage_id: ID,
        position: Option<i32>,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let stage_id = parse_id(&stage_id, "stageId")?;
        let moved = move_to(
            ctx.conn().await?,
            ctx.principal()?,
            id,
            stage_id,
            position.map(i64::from),
        )
        .await?;
        Ok(OpportunityNode::new(moved))
    }

    /// Closes an opportunity as won (into the pipeline's won stage, if it has one).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn mark_won(&self, ctx: &Context<'_>, id: ID) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        Ok(OpportunityNode::new(
            opportunities::close(
                ctx.conn().await?,
                ctx.principal()?,
                id,
                StageKind::Won,
                None,
            )
            .await?,
        ))
    }

    /// Closes an opportunity as lost, with the reason (into the pipeline's lost stage, if any).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn mark_lost(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let reason = required_text(&reason, "reason", 500)?;
        Ok(OpportunityNode::new(
            opportunities::close(
                ctx.conn().await?,
                ctx.principal()?,
                id,
                StageKind::Lost,
                Some(reason),
            )
            .await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_opportunity(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        opportunities::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }
}
