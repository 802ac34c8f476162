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
    event_log::{EventsQuery, EventsSubscription},
    schema::{AuthMutation, AuthQuery},
};
use platform::{
    AppContext, Config, Verticals,
    graphql::{MutationSavepoints, with_limits},
};

/// Every vertical's registration, in the order their work runs.
pub fn registered() -> Verticals {
    let mut verticals = Verticals::default();
    identity::register(&mut verticals);
    crm::register(&mut verticals);
    dashboard::register(&mut verticals);
    verticals
}

/// The application context with every vertical registered (the server, the CLI, the
/// benchmark's setup).
pub async fn context(config: Config) -> anyhow::Result<AppContext> {
    AppContext::build(config, registered()).await
}

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct TenantQuery(AuthQuery, CrmQuery, EventsQuery, DashboardQuery);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct TenantMutation(AuthMutation, CrmMutation);

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
