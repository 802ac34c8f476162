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
    let counters = [
        (
            "nexo_sql_statements_total",
            "counter",
            "SQL statements run, not counting transaction control.",
            app.store.statement_count(),
        ),
        (
            "nexo_live_subscriptions",
            "gauge",
            "Subscriptions streaming on this instance.",
            app.subscriptions.open() as u64,
        ),
        (
            "nexo_shared_subscription_executions",
            "gauge",
            "Live subscription executions, each shared by its identical subscribers.",
            app.shared_subscriptions.len() as u64,
        ),
        (
            "nexo_event_feeds",
            "gauge",
            "Tenants whose event log this instance follows for subscribers.",
            app.feeds.len() as u64,
        ),
    ];
    let registered = app.verticals.metrics.iter().map(|metric| {
        (
            metric.name,
            metric.kind.as_str(),
            metric.help,
            (metric.value)(app),
        )
    });
    let mut body = String::new();
    for (name, kind, help, value) in counters.into_iter().chain(registered) {
        body.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
