//! The KPI queries of a dashboard.

use chrono::{DateTime, Duration, Utc};
use entity::tenant::{activity, contact, opportunity};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crm::{
    figures,
    types::{ActivityKind, ContactStatus, OpportunityStatus, StageKind},
};
use platform::error::AppResult;

/// How far back a dashboard looks for won deals and conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum DashboardRange {
    Today,
    Last7Days,
    Last30Days,
    Last90Days,
    Last365Days,
}

impl DashboardRange {
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        match self {
            Self::Today => today,
            Self::Last7Days => now - Duration::days(7),
            Self::Last30Days => now - Duration::days(30),
            Self::Last90Days => now - Duration::days(90),
            Self::Last365Days => now - Duration::days(365),
        }
    }
}

/// Amounts per currency, in minor units.
pub type Amounts = Vec<(String, i64)>;

#[derive(Clone, Debug, PartialEq)]
pub struct Kpis {
    pub computed_at: DateTime<Utc>,
    pub open_value: Amounts,
    pub weighted_value: Amounts,
    pub open_count: i64,
    pub won_value: Amounts,
    pub won_count: i64,
    pub win_rate: Option<f64>,
    pub activities_today: i64,
    pub overdue_tasks: i64,
    pub cold_leads: i64,
    /// Quoted, invoiced and collected in the range; owed and overdue now.
    pub sales: sales::figures::SalesFigures,
}

#[derive(FromQueryResult)]
struct CurrencySum {
    currency: String,
    amount: i64,
}

pub async fn compute<C: ConnectionTrait>(
    conn: &C,
    pipeline_id: Uuid,
    range: DashboardRange,
) -> AppResult<Kpis> {
    let now = Utc::now();
    let from = range.start(now);
    let stages = figures::pipeline_figures(conn, pipeline_id).await?;
    let mut open_value: Amounts = Vec::new();
    let mut weighted_value: Amounts = Vec::new();
    let mut open_count = 0;
    for stage in stages
        .iter()
        .filter(|s| s.stage.kind == StageKind::Open.as_str())
    {
        open_count += stage.count;
        for (currency, value, weighted) in &stage.values {
            add(&mut open_value, currency, *value);
            add(&mut weighted_value, currency, *weighted);
        }
    }
    let won = || {
        opportunity::Entity::find()
            .filter(opportunity::Column::PipelineId.eq(pipeline_id))
            .filter(opportunity::Column::Status.eq(OpportunityStatus::Won.as_str()))
            .filter(opportunity::Column::ClosedAt.gte(from))
    };
    let won_count = won().count(conn).await? as i64;
    let won_value: Amounts = won()
        .select_only()
        .column(opportunity::Column::Currency)
        .column_as(Expr::cust("CAST(SUM(value_amount) AS BIGINT)"), "amount")
        .group_by(opportunity::Column::Currency)
        .into_model::<CurrencySum>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.currency, row.amount))
        .collect();
    let conversion =
        figures::conversion(conn, from, now + Duration::seconds(1), Some(pipeline_id)).await?;
    let today = DashboardRange::Today.start(now);
    let activities_today = activity::Entity::find()
        .filter(activity::Column::CreatedAt.gte(today))
        .count(conn)
        .await? as i64;
    let overdue_tasks = activity::Entity::find()
        .filter(activity::Column::Kind.eq(ActivityKind::Task.as_str()))
        .filter(activity::Column::CompletedAt.is_null())
        .filter(activity::Column::DueAt.lt(now))
        .count(conn)
        .await? as i64;
    let quiet_since = now - Duration::days(7);
    let cold_leads = contact::Entity::find()
        .filter(contact::Column::Status.is_in([
            ContactStatus::Contacted.as_str(),
            ContactStatus::Qualified.as_str(),
        ]))
        .filter(
            Condition::any()
                .add(contact::Column::LastActivityAt.lt(quiet_since))
                .add(
                    Condition::all()
                        .add(contact::Column::LastActivityAt.is_null())
                        .add(contact::Column::CreatedAt.lt(quiet_since)),
                ),
        )
        .count(conn)
        .await? as i64;
    let settings = sales::settings::get(conn).await?;
    let sales_today = sales::settings::today(sales::settings::timezone(&settings)?);
    let sales = sales::figures::compute(conn, from, sales_today).await?;
    Ok(Kpis {
        computed_at: now,
        sales,
        open_value,
        weighted_value,
        open_count,
        won_value,
        won_count,
        win_rate: conversion.win_rate,
        activities_today,
        overdue_tasks,
        cold_leads,
    })
}

fn add(amounts: &mut Amounts, currency: &str, value: i64) {
    match amounts.iter_mut().find(|(c, _)| c == currency) {
        Some((_, total)) => *total += value,
        None => amounts.push((currency.to_owned(), value)),
    }
}
