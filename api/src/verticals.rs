//! The composition: every vertical registered in one place. The tenant and admin GraphQL
//! schemas are merged from the verticals' roots here, and each vertical's `register` adds
//! its state, shareable subscriptions, request loaders and new-tenant setup. Adding a
//! vertical adds its roots to the merged objects below and its `register` to
//! [`registered`]; nothing else outside its folder names it.

use async_graphql::{EmptySubscription, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use admin::schema::{AdminMutation, AdminQuery};
use crm::{CrmMutation, CrmQuery, CrmSubscription};
use dashboard::schema::{DashboardQuery, DashboardSubscription};
use identity::{
    audit_trail::{AuditMutation, AuditQuery},
    event_log::{EventsQuery, EventsSubscription},
    files::{FilesMutation, FilesQuery},
    jobs::{JobsMutation, JobsQuery},
    schema::{AuthMutation, AuthQuery},
};
use platform::{
    AppContext, Config, Verticals,
    graphql::{MutationSavepoints, with_limits},
};
use sales::{SalesMutation, SalesQuery};

/// Every vertical's registration, in the order their work runs.
pub fn registered() -> Verticals {
    let mut verticals = Verticals::default();
    identity::register(&mut verticals);
    crm::register(&mut verticals);
    sales::register(&mut verticals);
    dashboard::register(&mut verticals);
    verticals
}

/// The application context with every vertical registered (the server, the CLI, the
/// benchmark's setup).
pub async fn context(config: Config) -> anyhow::Result<AppContext> {
    context_with(config, |_| {}).await
}

/// The context with every vertical registered and then `extra`: what a test adds (a job
/// kind of its own).
pub async fn context_with(
    config: Config,
    extra: impl FnOnce(&mut Verticals),
) -> anyhow::Result<AppContext> {
    let mut verticals = registered();
    #[cfg(feature = "bench-baseline")]
    if config.bench_baseline {
        verticals.handle::<BenchNoop>();
    }
    extra(&mut verticals);
    AppContext::build(config, verticals).await
}

/// nexo-bench's job: does nothing but say when it started. Only in builds with the
/// bench-baseline feature, and only with `NEXO_BENCH_BASELINE` set.
#[cfg(feature = "bench-baseline")]
pub struct BenchNoop;

#[cfg(feature = "bench-baseline")]
impl platform::jobs::JobKind for BenchNoop {
    const KIND: &'static str = "bench.noop";
    type Payload = ();
}

#[cfg(feature = "bench-baseline")]
impl platform::jobs::JobHandler for BenchNoop {
    async fn run(
        _run: &platform::jobs::JobRun,
        _payload: (),
    ) -> platform::error::AppResult<serde_json::Value> {
        Ok(serde_json::json!({"started_at": chrono::Utc::now()}))
    }
}

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct TenantQuery(
    AuthQuery,
    CrmQuery,
    SalesQuery,
    AuditQuery,
    EventsQuery,
    DashboardQuery,
    JobsQuery,
    FilesQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct TenantMutation(
    AuthMutation,
    CrmMutation,
    SalesMutation,
    AuditMutation,
    JobsMutation,
    FilesMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct TenantSubscription(EventsSubscription, CrmSubscription, DashboardSubscription);

pub type TenantSchema = Schema<TenantQuery, TenantMutation, TenantSubscription>;
pub type AdminSchema = Schema<AdminQuery, AdminMutation, EmptySubscription>;

/// The tenant API for mutations: each top-level field runs in a savepoint. `app` is `None`
/// only when printing the SDL.
pub fn tenant_schema(app: Option<AppContext>) -> TenantSchema {
    tenant_schema_builder(app)
        .extension(MutationSavepoints)
        .finish()
}

/// The same API for queries and subscriptions, without extensions: with any extension,
/// async-graphql routes every field through it (boxed futures, allocations), which cost
/// the board, 5,000 fields, a good part of its time.
pub fn tenant_read_schema(app: Option<AppContext>) -> TenantSchema {
    tenant_schema_builder(app).finish()
}

fn tenant_schema_builder(
    app: Option<AppContext>,
) -> SchemaBuilder<TenantQuery, TenantMutation, TenantSubscription> {
    let builder = Schema::build(
        TenantQuery::default(),
        TenantMutation::default(),
        TenantSubscription::default(),
    );
    with_limits(builder, app)
}

/// The platform admin API, served only on `admin.<base domain>`.
pub fn admin_schema(app: Option<AppContext>) -> AdminSchema {
    let builder = Schema::build(AdminQuery, AdminMutation, EmptySubscription);
    with_limits(builder, app).finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use async_graphql::resolver_utils::EnumType;
    use platform::audit::AuditEntityType;

    use super::registered;

    #[test]
    fn the_event_catalog_names_each_type_once_after_its_entity() {
        let verticals = registered();
        let mut seen = HashSet::new();
        for event_type in verticals.event_types() {
            assert!(seen.insert(event_type.name()), "{event_type:?} twice");
            let (entity, what) = event_type.name().split_once('.').expect("entity.what");
            assert_eq!(entity, event_type.entity());
            assert!(!what.is_empty() && !what.contains('.'), "{event_type:?}");
        }
        for wanted in [
            "contact.created",
            "opportunity.stage_changed",
            "user.deactivated",
        ] {
            assert!(seen.contains(wanted), "{wanted} is not in the catalog");
        }
    }

    /// A public link's token never reaches the request log.
    #[test]
    fn public_pages_are_logged_by_their_prefix_alone() {
        let verticals = registered();
        let token = "q0ZtX2x3c3Rva2VuX3RoYXRfaXNfc2VjcmV0X2FuZF9sb25n";
        assert_eq!(verticals.loggable_path(&format!("/q/{token}")), "/q/");
        assert_eq!(
            verticals.loggable_path(&format!("/q/{token}/accept")),
            "/q/"
        );
        assert_eq!(verticals.loggable_path("/graphql"), "/graphql");
    }

    #[test]
    fn every_audited_kind_has_its_revert_and_its_events() {
        let verticals = registered();
        for item in AuditEntityType::items() {
            let kind = item.value;
            assert!(
                verticals.revertible(kind).is_some(),
                "{kind:?} has no revert"
            );
            let created = verticals
                .event_types()
                .iter()
                .filter(|t| t.entity() == kind.as_str())
                .count();
            assert!(created >= 3, "{kind:?} announces {created} event types");
        }
    }
}
