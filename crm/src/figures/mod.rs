//! The figures sales teams ask for: cold leads, conversion, the pipeline by stage.

pub mod schema;

use chrono::{DateTime, Utc};
use entity::tenant::{contact, opportunity};
use platform::error::{AppError, AppResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    opportunities,
    pipelines::{self, board::stage_totals},
    types::{ContactStatus, OpportunityStatus},
};

/// Conversion over a date range.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    /// Opportunities closed as won in the range.
    pub won: u64,
    /// Opportunities closed as lost in the range.
    pub lost: u64,
    /// won / (won + lost); `None` when nothing closed.
    pub win_rate: Option<f64>,
    /// Contacts created in the range.
    pub leads: u64,
    /// Of those, the ones that are customers now.
    pub converted_leads: u64,
    /// converted / leads; `None` without leads.
    pub lead_conversion_rate: Option<f64>,
}

pub async fn conversion<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pipeline_id: Option<Uuid>,
) -> AppResult<Conversion> {
    if to <= from {
        return Err(AppError::bad_input(
            "to",
            "the range must end after it starts",
        ));
    }
    if let Some(pipeline_id) = pipeline_id {
        pipelines::find(conn, pipeline_id).await?;
    }
    let closed = |status: OpportunityStatus| {
        let mut query = opportunity::Entity::find()
            .filter(opportunity::Column::Status.eq(status.as_str()))
            .filter(opportunity::Column::ClosedAt.gte(from))
            .filter(opportunity::Column::ClosedAt.lt(to));
        if let Some(pipeline_id) = pipeline_id {
            query = query.filter(opportunity::Column::PipelineId.eq(pipeline_id));
        }
        query
    };
    let won = closed(OpportunityStatus::Won).count(conn).await?;
    let lost = closed(OpportunityStatus::Lost).count(conn).await?;
    let leads_query = || {
        contact::Entity::find()
            .filter(contact::Column::CreatedAt.gte(from))
            .filter(contact::Column::CreatedAt.lt(to))
    };
    let leads = leads_query().count(conn).await?;
    let converted_leads = leads_query()
        .filter(contact::Column::Status.eq(ContactStatus::Customer.as_str()))
        .count(conn)
        .await?;
    let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    Ok(Conversion {
        won,
        lost,
        win_rate: rate(won, won + lost),
        leads,
        converted_leads,
        lead_conversion_rate: rate(converted_leads, leads),
    })
}

/// One stage's figures: what it holds, its value and weighted value per currency.
pub struct StageFigures {
    pub stage: entity::tenant::pipeline_stage::Model,
    pub count: i64,
    /// (currency, value, weighted value) in minor units.
    pub values: Vec<(String, i64, i64)>,
}

pub async fn pipeline_figures<C: ConnectionTrait>(
    conn: &C,
    pipeline_id: Uuid,
) -> AppResult<Vec<StageFigures>> {
    pipelines::find(conn, pipeline_id).await?;
    let stages = pipelines::stages_of(conn, pipeline_id).await?;
    let ids: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    let mut totals = stage_totals(conn, &ids).await?;
    Ok(stages
        .into_iter()
        .map(|stage| {
            let total = totals.remove(&stage.id).unwrap_or_default();
            let values = total
                .by_currency
                .into_iter()
                .map(|(currency, amount)| {
                    let weighted = opportunities::weighted(amount, stage.probability);
                    (currency, amount, weighted)
                })
                .collect();
            StageFigures {
                count: total.count,
                values,
                stage,
            }
        })
        .collect())
}
