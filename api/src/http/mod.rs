//! The HTTP surface: `/graphql` (tenant or admin API by Host), `/files/...` (download
//! links), the verticals' public pages (`Verticals::public_routes`), `/healthz`, `/readyz`,
//! `/metrics`,
//! with a request id and a tracing span (request id, tenant) on every request.

#[cfg(feature = "bench-baseline")]
mod baseline;
mod body;
mod files;
mod graphql;
mod metrics;

use axum::{
    Router,
    extract::State,
    http::{HeaderName, Request, StatusCode},
    routing::get,
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    AppContext,
    verticals::{AdminSchema, TenantSchema, admin_schema, tenant_read_schema, tenant_schema},
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub(crate) struct AppState {
    pub app: AppContext,
    /// Mutations (savepoint per top-level field).
    pub tenant_schema: TenantSchema,
    /// Queries and subscriptions.
    pub tenant_read_schema: TenantSchema,
    pub admin_schema: AdminSchema,
}

pub fn router(app: AppContext) -> Router {
    let state = AppState {
        tenant_schema: tenant_schema(Some(app.clone())),
        tenant_read_schema: tenant_read_schema(Some(app.clone())),
        admin_schema: admin_schema(Some(app.clone())),
        app,
    };
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::metrics))
        .route("/files/{tenant}/{file}", get(files::download));
    #[cfg(feature = "bench-baseline")]
    let router = router
        .route("/baseline/board", axum::routing::post(baseline::board))
        .route("/baseline/contact", axum::routing::post(baseline::contact));
    let app = state.app.clone();
    let mut router = router.with_state(state);
    for routes in &app.verticals.public_routes {
        router = router.merge((routes.router)().with_state(app.clone()));
    }
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(move |request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %app.verticals.loggable_path(request.uri().path()),
                    request_id = %request_id,
                    tenant = tracing::field::Empty,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
