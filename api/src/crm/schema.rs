//! CRM GraphQL types and resolvers; thin: parse, call the service, map.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use entity::tenant::{pipeline, pipeline_stage};

use super::{loader::StagesByPipeline, service};
use crate::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::ContextExt,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// Deals in progress.
    Open,
    /// Deals closed as won.
    Won,
    /// Deals closed as lost.
    Lost,
}

#[derive(SimpleObject)]
#[graphql(name = "Stage")]
pub struct StageNode {
    pub id: ID,
    pub name: String,
    pub position: i32,
    /// Win probability, 0-100.
    pub probability: i32,
    pub kind: StageKind,
}

impl TryFrom<pipeline_stage::Model> for StageNode {
    type Error = AppError;

    fn try_from(model: pipeline_stage::Model) -> AppResult<Self> {
        Ok(Self {
            id: ID(model.id.to_string()),
            kind: match model.kind.as_str() {
                "open" => StageKind::Open,
                "won" => StageKind::Won,
                "lost" => StageKind::Lost,
                other => return Err(AppError::internal(format!("unknown stage kind {other:?}"))),
            },
            name: model.name,
            position: model.position,
            probability: i32::from(model.probability),
        })
    }
}

pub struct PipelineNode(pipeline::Model);

/// A sales pipeline: ordered stages that opportunities move through.
#[Object(name = "Pipeline")]
impl PipelineNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
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
    async fn stages(&self, ctx: &Context<'_>) -> GqlResult<Vec<StageNode>> {
        let loader = ctx
            .data::<DataLoader<StagesByPipeline>>()
            .map_err(|_| AppError::internal("stage loader missing"))?;
        let stages = loader
            .load_one(self.0.id)
            .await
            .map_err(|e| e.to_graphql())?
            .unwrap_or_default();
        Ok(stages
            .into_iter()
            .map(StageNode::try_from)
            .collect::<AppResult<_>>()?)
    }
}

#[derive(Default)]
pub struct CrmQuery;

#[Object]
impl CrmQuery {
    /// This tenant's pipelines, the default first.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn pipelines(&self, ctx: &Context<'_>) -> GqlResult<Vec<PipelineNode>> {
        Ok(service::list_pipelines(ctx.conn().await?)
            .await?
            .into_iter()
            .map(PipelineNode)
            .collect())
    }
}
