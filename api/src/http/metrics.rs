//! `/metrics`: this instance's counters in Prometheus' text format, for operators'
//! scrapers and for `nexo-bench`, which reads the server's own statement count from it.
//! With `NEXO_METRICS_TOKEN` set it asks for that bearer token; without, it is open in
//! development and absent in production.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::{Metric, MetricKind};

pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let app = &state.app;
    match &app.config.metrics_token {
        Some(expected) => {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                return (StatusCode::UNAUTHORIZED, "metrics token required").into_response();
            }
        }
        None if app.config.is_production() => return StatusCode::NOT_FOUND.into_response(),
        None => {}
    }
    let mut body = String::new();
    for metric in PLATFORM_METRICS.iter().chain(&app.verticals.metrics) {
        let (name, kind, help) = (metric.name, metric.kind.as_str(), metric.help);
        let value = (metric.value)(app);
        body.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The platform's own figures, before those the verticals registered.
const PLATFORM_METRICS: [Metric; 4] = [
    Metric {
        name: "nexo_sql_statements_total",
        kind: MetricKind::Counter,
        help: "SQL statements run, not counting transaction control.",
        value: |app| app.store.statement_count(),
    },
    Metric {
        name: "nexo_live_subscriptions",
        kind: MetricKind::Gauge,
        help: "Subscriptions streaming on this instance.",
        value: |app| app.subscriptions.open() as u64,
    },
    Metric {
        name: "nexo_shared_subscription_executions",
        kind: MetricKind::Gauge,
        help: "Live subscription executions, each shared by its identical subscribers.",
        value: |app| app.shared_subscriptions.len() as u64,
    },
    Metric {
        name: "nexo_event_feeds",
        kind: MetricKind::Gauge,
        help: "Tenants whose event log this instance follows for subscribers.",
        value: |app| app.feeds.len() as u64,
    },
];
