//! The figures over GraphQL.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::{ContextExt, Money, money},
    parse_id,
};

use crate::{figures, pipelines::schema::StageNode};

/// A stage's figures: what it holds and what that is worth.
#[derive(SimpleObject)]
pub struct StageFigures {
    pub stage: StageNode,
    pub count: i64,
    /// Per currency.
    pub total_value: Vec<Money>,
    /// Per currency: value x the stage's probability.
    pub weighted_value: Vec<Money>,
}

impl TryFrom<figures::StageFigures> for StageFigures {
    type Error = AppError;

    fn try_from(figures: figures::StageFigures) -> AppResult<Self> {
        let total_value = figures
            .values
            .iter()
            .map(|(c, a, _)| money(*a, c))
            .collect::<AppResult<_>>()?;
        let weighted_value = figures
            .values
            .iter()
            .map(|(c, _, w)| money(*w, c))
            .collect::<AppResult<_>>()?;
        Ok(Self {
            stage: StageNode::new(figures.stage),
            count: figures.count,
            total_value,
            weighted_value,
        })
    }
}

/// Win and lead conversion over a date range.
#[derive(SimpleObject)]
pub struct Conversion {
    /// Opportunities won in the range.
    pub won: i64,
    /// Opportunities lost in the range.
    pub lost: i64,
    /// won / (won + lost); null when none closed.
    pub win_rate: Option<f64>,
    /// Contacts created in the range.
    pub leads: i64,
    /// Of those, how many are customers now.
    pub converted_leads: i64,
    /// convertedLeads / leads; null without leads.
    pub lead_conversion_rate: Option<f64>,
}

impl From<figures::Conversion> for Conversion {
    fn from(c: figures::Conversion) -> Self {
        Self {
            won: c.won as i64,
            lost: c.lost as i64,
            win_rate: c.win_rate,
            leads: c.leads as i64,
            converted_leads: c.converted_leads as i64,
            lead_conversion_rate: c.lead_conversion_rate,
        }
    }
}

#[derive(Default)]
pub struct FiguresQuery;

#[Object]
impl FiguresQuery {
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
}
