//! Live dashboards: KPI snapshots of a pipeline over a date range. Each instance computes a
//! snapshot per (tenant, pipeline, range) at most once per 250 ms, and only after changes,
//! and shares it with every subscriber of the same arguments: a thousand viewers of one
//! dashboard cost one computation per tick, an idle tenant costs nothing.

pub mod kpi;
pub mod live;
pub mod schema;

use platform::{Metric, MetricKind, Verticals, graphql::subscriptions::Sharing};

/// What dashboards bring to the platform: this instance's shared live dashboards, each
/// snapshot handed whole to whoever joins.
pub fn register(verticals: &mut Verticals) {
    verticals.add_state(live::Dashboards::default());
    verticals.share_subscription("dashboard", Sharing::LatestFirst);
    verticals.metrics.push(Metric {
        name: "nexo_dashboard_computations_total",
        kind: MetricKind::Counter,
        help: "Live dashboard snapshots computed.",
        value: |app| {
            app.state::<live::Dashboards>()
                .map_or(0, live::Dashboards::computations)
        },
    });
}
