//! Live dashboards: KPI snapshots of a pipeline over a date range. Each instance computes a
//! snapshot per (tenant, pipeline, range) at most once per 250 ms, and only after changes,
//! and shares it with every subscriber of the same arguments: a thousand viewers of one
//! dashboard cost one computation per tick, an idle tenant costs nothing.

pub mod kpi;
pub mod live;
pub(crate) mod schema;
