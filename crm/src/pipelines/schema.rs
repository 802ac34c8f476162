//! Pipelines, stages and the board over GraphQL.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::tenant::{activity, company, contact, pipeline, pipeline_stage, user};
use identity::schema::UserNode;
use platform::{
    auth::{Role, RoleGuard},
    error::{AppResult, GqlResult},
    graphql::{ContextExt, Money, load_one, money},
    parse_id,
};

use crate::{
    activities::schema::ActivityNode,
    companies::schema::CompanyNode,
    contacts::schema::ContactNode,
    opportunities::{self, schema::OpportunityNode},
    pipelines::{
        self,
        board::{Board, CardColumns, StageTotals, board},
        loader::{FirstOpportunitiesPerStage, PipelineById, StageTotalsLoader, StagesByPipeline},
    },
    shared::{columns_read, edge_limit, id},
    types::StageKind,
};

#[derive(InputObject, Clone)]
pub struct StageInput {
    pub name: String,
    /// Win probability, 0-100.
    pub probability: i32,
    #[graphql(default_with = "StageKind::Open")]
    pub kind: StageKind,
}

impl StageInput {
    pub fn parse(self, field: &str) -> AppResult<pipelines::NewStage> {
        Ok(pipelines::NewStage {
            name: pipelines::parse_name(&self.name, &format!("{field}.name"))?,
            probability: pipelines::parse_probability(
                self.probability,
                &format!("{field}.probability"),
            )?,
            kind: self.kind,
        })
    }
}

#[derive(InputObject)]
pub struct UpdateStageInput {
    pub name: Option<String>,
    pub probability: Option<i32>,
    pub kind: Option<StageKind>,
}

impl UpdateStageInput {
    pub fn parse(self) -> AppResult<pipelines::StageChanges> {
        Ok(pipelines::StageChanges {
            name: self
                .name
                .as_deref()
                .map(|n| pipelines::parse_name(n, "name"))
                .transpose()?,
            probability: self
                .probability
                .map(|p| pipelines::parse_probability(p, "probability"))
                .transpose()?,
            kind: self.kind,
        })
    }
}

/// A pipeline, with its stages (and their totals) when the query that found it loaded them
/// in the same statement.
pub struct PipelineNode(pub pipeline::Model, Option<Vec<StageNode>>);

impl PipelineNode {
    pub fn new(model: pipeline::Model) -> Self {
        Self(model, None)
    }
}

impl From<Board> for PipelineNode {
    fn from(board: Board) -> Self {
        let stages = board
            .stages
            .into_iter()
            .map(|(stage, totals)| StageNode(stage, totals))
            .collect();
        Self(board.pipeline, Some(stages))
    }
}

/// A sales pipeline: ordered stages that opportunities move through.
#[Object(name = "Pipeline", serial)]
impl PipelineNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The pipeline new opportunities go to when none is named.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Stages in board order.
    #[graphql(complexity = "platform::graphql::complexity::unbounded(child_complexity)")]
    async fn stages(&self, ctx: &Context<'_>) -> GqlResult<Vec<StageNode>> {
        if let Some(stages) = &self.1 {
            return Ok(stages.clone());
        }
        Ok(load_one::<StagesByPipeline, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(StageNode::new)
            .collect())
    }
}

/// A stage, with its column's totals when they were loaded with it.
#[derive(Clone)]
pub struct StageNode(pub pipeline_stage::Model, Option<StageTotals>);

impl StageNode {
    pub fn new(model: pipeline_stage::Model) -> Self {
        Self(model, None)
    }
}

#[Object(name = "Stage", serial)]
impl StageNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Win probability, 0-100.
    async fn probability(&self) -> i32 {
        i32::from(self.0.probability)
    }
    async fn kind(&self) -> GqlResult<StageKind> {
        Ok(StageKind::from_stored(&self.0.kind)?)
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> GqlResult<Option<PipelineNode>> {
        Ok(load_one::<PipelineById, _>(ctx, self.0.pipeline_id)
            .await?
            .map(PipelineNode::new))
    }
    /// The stage's column on the board: its first opportunities in board order (open ones
    /// in open stages, won in won stages, lost in lost stages) and its totals.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(&self, #[graphql(default = 20)] first: i32) -> GqlResult<StageColumn> {
        Ok(StageColumn {
            stage_id: self.0.id,
            kind: StageKind::from_stored(&self.0.kind)?,
            probability: self.0.probability,
            first: edge_limit(first)?,
            totals: self.1.clone(),
        })
    }
}

/// One stage's column of the board.
pub struct StageColumn {
    stage_id: uuid::Uuid,
    kind: StageKind,
    probability: i16,
    first: u64,
    /// Loaded with the stage, or else by `StageTotalsLoader`.
    totals: Option<StageTotals>,
}

impl StageColumn {
    async fn totals(&self, ctx: &Context<'_>) -> GqlResult<StageTotals> {
        if let Some(totals) = &self.totals {
            return Ok(totals.clone());
        }
        Ok(load_one::<StageTotalsLoader, _>(ctx, self.stage_id)
            .await?
            .unwrap_or_default())
    }
}

#[Object]
impl StageColumn {
    async fn nodes(&self, ctx: &Context<'_>) -> GqlResult<Vec<OpportunityNode>> {
        // The cards' edges come with them, with the columns their selection reads; the
        // latest activity only when asked for (it costs a lookup per card).
        let cards = ctx.look_ahead();
        let latest_activity = cards.field("latestActivity");
        let columns = CardColumns {
            contact: columns_read::<contact::Model>(
                &cards.field("contact"),
                &[],
                ContactNode::READS,
            ),
            company: columns_read::<company::Model>(
                &cards.field("company"),
                &[],
                CompanyNode::READS,
            ),
            owner: columns_read::<user::Model>(
                &cards.field("owner"),
                UserNode::ALWAYS_READS,
                UserNode::READS,
            ),
            latest_activity: latest_activity.exists().then(|| {
                columns_read::<activity::Model>(&latest_activity, &[], ActivityNode::READS)
            }),
        };
        let rows = load_one::<FirstOpportunitiesPerStage, _>(
            ctx,
            (self.stage_id, self.kind, self.first, columns),
        )
        .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|(o, edges)| OpportunityNode(o, Some(self.probability), Some(edges)))
            .collect())
    }
    /// How many opportunities the column holds in all.
    async fn total_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        Ok(self.totals(ctx).await?.count)
    }
    /// The column's value, per currency.
    async fn total_value(&self, ctx: &Context<'_>) -> GqlResult<Vec<Money>> {
        let totals = self.totals(ctx).await?;
        Ok(totals
            .by_currency
            .iter()
            .map(|(c, a)| money(*a, c))
            .collect::<AppResult<_>>()?)
    }
    /// The column's value x the stage's probability, per currency.
    async fn weighted_value(&self, ctx: &Context<'_>) -> GqlResult<Vec<Money>> {
        let totals = self.totals(ctx).await?;
        Ok(totals
            .by_currency
            .iter()
            .map(|(c, a)| money(opportunities::weighted(*a, self.probability), c))
            .collect::<AppResult<_>>()?)
    }
}

#[derive(Default)]
pub struct PipelinesQuery;

#[Object]
impl PipelinesQuery {
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
        Ok(board(conn, id, totals).await?.into())
    }
}

#[derive(Default)]
pub struct PipelinesMutation;

#[Object]
impl PipelinesMutation {
    /// Creates a pipeline with its stages, in order.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn create_pipeline(
        &self,
        ctx: &Context<'_>,
        name: String,
        stages: Vec<StageInput>,
    ) -> GqlResult<PipelineNode> {
        let name = pipelines::parse_name(&name, "name")?;
        pipelines::check_stage_count(stages.len(), "stages")?;
        let stages = stages
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.parse(&format!("stages[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(PipelineNode::new(
            pipelines::create(ctx.conn().await?, ctx.principal()?, name, stages).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn rename_pipeline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> GqlResult<PipelineNode> {
        let id = parse_id(&id, "id")?;
        let name = pipelines::parse_name(&name, "name")?;
        Ok(PipelineNode::new(
            pipelines::rename(ctx.conn().await?, ctx.principal()?, id, name, None).await?,
        ))
    }

    /// Deletes a pipeline that holds no opportunities (`CONFLICT` otherwise).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_pipeline(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        pipelines::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Adds a stage at `position` (default: the end).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn add_stage(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        input: StageInput,
        position: Option<i32>,
    ) -> GqlResult<StageNode> {
        let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
        let stage = input.parse("input")?;
        Ok(StageNode::new(
            pipelines::add_stage(
                ctx.conn().await?,
                ctx.principal()?,
                pipeline_id,
                stage,
                position,
            )
            .await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn update_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStageInput,
    ) -> GqlResult<StageNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(StageNode::new(
            pipelines::update_stage(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Orders a pipeline's stages; list each stage exactly once.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn reorder_stages(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        stage_ids: Vec<ID>,
    ) -> GqlResult<Vec<StageNode>> {
        let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
        pipelines::check_stage_count(stage_ids.len(), "stageIds")?;
        let order = stage_ids
            .iter()
            .map(|id| parse_id(id, "stageIds"))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(
            pipelines::reorder_stages(ctx.conn().await?, ctx.principal()?, pipeline_id, order)
                .await?
                .into_iter()
                .map(StageNode::new)
                .collect(),
        )
    }

    /// Deletes a stage. A stage holding opportunities is deleted only by moving them, in
    /// this mutation, to `moveOpportunitiesTo` (a stage of the same pipeline).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        move_opportunities_to: Option<ID>,
    ) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        let target = move_opportunities_to
            .map(|t| parse_id(&t, "moveOpportunitiesTo"))
            .transpose()?;
        pipelines::delete_stage(ctx.conn().await?, ctx.principal()?, uuid, target).await?;
        Ok(id)
    }
}
