//! The dashboard over GraphQL: a query for one snapshot, a subscription for live ones.

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use super::{
    kpi::{DashboardRange, Kpis},
    live,
};
use platform::{
    auth::Role,
    auth::RoleGuard,
    error::{AppError, AppResult, GqlResult},
    graphql::{ContextExt, Money, money},
    parse_id,
};

/// A pipeline's key figures at one moment.
#[derive(SimpleObject)]
pub struct Dashboard {
    pub computed_at: DateTime<Utc>,
    /// Open opportunities in the pipeline.
    pub open_count: i64,
    /// Their value, per currency.
    pub open_value: Vec<Money>,
    /// Their value x their stages' probabilities, per currency.
    pub weighted_value: Vec<Money>,
    /// Won in the range.
    pub won_count: i64,
    pub won_value: Vec<Money>,
    /// won / (won + lost) in the range; null when none closed.
    pub win_rate: Option<f64>,
    /// Activities logged today (UTC), all pipelines.
    pub activities_today: i64,
    /// Open tasks past their due time.
    pub overdue_tasks: i64,
    /// Contacted or qualified contacts quiet for 7 days.
    pub cold_leads: i64,
    /// Quotes sent in the range (each once, whatever its revisions), per currency.
    pub quoted: Vec<Money>,
    /// Invoices issued in the range, per currency.
    pub invoiced: Vec<Money>,
    /// Payments received in the range, refunds taken off, per currency.
    pub collected: Vec<Money>,
    /// What issued invoices still have due now, per currency.
    pub receivables: Vec<Money>,
    /// The part of it past its due date.
    pub overdue_receivables: Vec<Money>,
}

impl TryFrom<&Kpis> for Dashboard {
    type Error = AppError;

    fn try_from(k: &Kpis) -> AppResult<Self> {
        let in_money = |amounts: &Vec<(String, i64)>| -> AppResult<Vec<Money>> {
            amounts.iter().map(|(c, a)| money(*a, c)).collect()
        };
        Ok(Self {
            computed_at: k.computed_at,
            open_count: k.open_count,
            open_value: in_money(&k.open_value)?,
            weighted_value: in_money(&k.weighted_value)?,
            won_count: k.won_count,
            won_value: in_money(&k.won_value)?,
            win_rate: k.win_rate,
            activities_today: k.activities_today,
            overdue_tasks: k.overdue_tasks,
            cold_leads: k.cold_leads,
            quoted: in_money(&k.sales.quoted)?,
            invoiced: in_money(&k.sales.invoiced)?,
            collected: in_money(&k.sales.collected)?,
            receivables: in_money(&k.sales.receivables)?,
            overdue_receivables: in_money(&k.sales.overdue)?,
        })
    }
}

#[derive(Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// A pipeline's key figures now.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        #[graphql(default_with = "DashboardRange::Last30Days")] range: DashboardRange,
    ) -> GqlResult<Dashboard> {
        let pipeline = parse_id(&pipeline_id, "pipelineId")?;
        let kpis = crate::kpi::compute(ctx.conn().await?, pipeline, range).await?;
        Ok(Dashboard::try_from(&kpis)?)
    }
}

#[derive(Default)]
pub struct DashboardSubscription;

#[Subscription]
impl DashboardSubscription {
    /// A pipeline's key figures: now, then again after changes (at most every 250 ms).
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        #[graphql(default_with = "DashboardRange::Last30Days")] range: DashboardRange,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Dashboard>> + use<>> {
        // Boxed: the macro keeps this future's space in every subscription's stream for
        // as long as it lives; boxed, the space is freed once subscribing is done.
        Box::pin(async move {
            let pipeline = parse_id(&pipeline_id, "pipelineId")?;
            let tenant = platform::graphql::subscriber_tenant(ctx)?;
            let app = ctx.app()?;
            crm::check_pipeline(app, &tenant, pipeline).await?;
            Ok(live::watch(app, &tenant, pipeline, range)?
                .map(|kpis| Dashboard::try_from(kpis.as_ref()).map_err(Into::into)))
        })
        .await
    }
}
