//! Sales reports over GraphQL: revenue by month, how quotes fare, receivables ageing.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::{ContextExt, Money, money},
};

use crate::{figures, settings};

/// The longest range a report covers.
const MAX_RANGE_DAYS: i64 = 3660;

/// One month's revenue in one currency.
#[derive(SimpleObject)]
pub struct MonthRevenue {
    /// `YYYY-MM`.
    pub month: String,
    /// Issued invoices dated in the month, before credit notes.
    pub invoiced: Money,
    /// Payments received in the month, refunds taken off.
    pub collected: Money,
}

/// How the quotes sent in a range fared; each quote once, whatever its revisions.
#[derive(SimpleObject)]
pub struct QuoteAcceptance {
    pub sent: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// accepted / sent; null when none was sent.
    pub acceptance_rate: Option<f64>,
    /// Days from sending to acceptance, on average.
    pub average_days_to_accept: Option<f64>,
}

/// What is owed in one currency, by how far past its due date.
#[derive(SimpleObject)]
pub struct ReceivablesAgeing {
    pub not_due: Money,
    pub days_0_to_30: Money,
    pub days_31_to_60: Money,
    pub days_61_to_90: Money,
    pub over_90_days: Money,
}

fn check_range(from: i64, field: &str) -> AppResult<()> {
    if !(0..=MAX_RANGE_DAYS).contains(&from) {
        return Err(AppError::bad_input(
            field,
            format!("a report covers 0 to {MAX_RANGE_DAYS} days, from before to"),
        ));
    }
    Ok(())
}

#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
    /// Revenue invoiced and collected by month and currency, `from` to `to` inclusive.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn revenue_by_month(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> GqlResult<Vec<MonthRevenue>> {
        check_range((to - from).num_days(), "to")?;
        let rows = figures::revenue_by_month(ctx.conn().await?, from, to).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                Ok(MonthRevenue {
                    invoiced: money(row.invoiced, &row.currency)?,
                    collected: money(row.collected, &row.currency)?,
                    month: row.month,
                })
            })
            .collect::<AppResult<_>>()?)
    }

    /// Quotes sent from `from` (inclusive) to `to` (exclusive).
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn quote_acceptance(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> GqlResult<QuoteAcceptance> {
        check_range((to - from).num_days(), "to")?;
        let row = figures::quote_acceptance(ctx.conn().await?, from, to).await?;
        Ok(QuoteAcceptance {
            acceptance_rate: (row.sent > 0).then(|| row.accepted as f64 / row.sent as f64),
            sent: row.sent,
            accepted: row.accepted,
            rejected: row.rejected,
            average_days_to_accept: row.average_days_to_accept,
        })
    }

    /// What issued invoices still have due, per currency, by days past their due date as
    /// of today where the tenant is.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn receivables_ageing(&self, ctx: &Context<'_>) -> GqlResult<Vec<ReceivablesAgeing>> {
        let conn = ctx.conn().await?;
        let settings = settings::get(conn).await?;
        let today = settings::today(settings::timezone(&settings)?);
        let rows = figures::receivables_ageing(conn, today).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let m = |minor| money(minor, &row.currency);
                Ok(ReceivablesAgeing {
                    not_due: m(row.not_due)?,
                    days_0_to_30: m(row.days_0_30)?,
                    days_31_to_60: m(row.days_31_60)?,
                    days_61_to_90: m(row.days_61_90)?,
                    over_90_days: m(row.over_90)?,
                })
            })
            .collect::<AppResult<_>>()?)
    }
}
