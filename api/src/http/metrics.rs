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
    // Read first, so that the statement count served below includes these reads.
    let jobs = jobs_metrics(app).await;
    let mut body = String::new();
    for metric in PLATFORM_METRICS.iter().chain(&app.verticals.metrics) {
        let (name, kind, help) = (metric.name, metric.kind.as_str(), metric.help);
        let value = (metric.value)(app);
        body.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    body.push_str(&jobs);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The jobs' figures, by kind: what waits in the tenants now (the deployment's queues,
/// the same on every instance), and what this instance's workers did.
async fn jobs_metrics(app: &crate::AppContext) -> String {
    let mut body = String::new();
    let mut family = |name: &str, kind: &str, help: &str, values: Vec<(String, String)>| {
        body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (label, value) in values {
            body.push_str(&format!("{name}{{kind=\"{label}\"}} {value}\n"));
        }
    };
    let mut kinds: Vec<String> = app.jobs.kinds().map(str::to_owned).collect();
    let waiting = match crate::jobs::waiting_now(app).await {
        Ok(waiting) => waiting,
        Err(e) => {
            tracing::warn!(error = ?e, "cannot read the jobs waiting for /metrics");
            Default::default()
        }
    };
    kinds.extend(waiting.keys().cloned());
    kinds.sort();
    kinds.dedup();
    let now = chrono::Utc::now();
    family(
        "nexo_jobs_waiting",
        "gauge",
        "Jobs past their due time and not yet taken by a worker.",
        kinds
            .iter()
            .map(|kind| {
                let queued = waiting.get(kind).map_or(0, |(queued, _)| *queued);
                (kind.clone(), queued.to_string())
            })
            .collect(),
    );
    family(
        "nexo_jobs_oldest_wait_seconds",
        "gauge",
        "How long the longest-waiting due job has waited for a worker.",
        kinds
            .iter()
            .map(|kind| {
                let age = waiting.get(kind).map_or(0.0, |(_, oldest)| {
                    (now - *oldest).num_milliseconds().max(0) as f64 / 1000.0
                });
                (kind.clone(), age.to_string())
            })
            .collect(),
    );
    let counts = app.jobs.counts();
    let counted = |pick: fn(&crate::jobs::KindCounts) -> u64| -> Vec<(String, String)> {
        kinds
            .iter()
            .map(|kind| {
                let value = counts.get(kind.as_str()).map_or(0, pick);
                (kind.clone(), value.to_string())
            })
            .collect()
    };
    family(
        "nexo_job_runs_total",
        "counter",
        "Attempts begun by this instance's workers.",
        counted(|c| c.runs),
    );
    family(
        "nexo_job_failures_total",
        "counter",
        "Attempts that failed on this instance (retried after a backoff, or dead).",
        counted(|c| c.failures),
    );
    family(
        "nexo_jobs_dead_total",
        "counter",
        "Jobs that used up their attempts on this instance.",
        counted(|c| c.dead),
    );
    family(
        "nexo_job_lost_leases_total",
        "counter",
        "Outcomes refused because another worker had taken the job over.",
        counted(|c| c.lost_leases),
    );
    body
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
