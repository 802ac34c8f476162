//! Assembles the two GraphQL schemas (tenant and platform admin) from the contexts'
//! objects, and holds what every resolver shares: request context accessors, pagination,
//! the savepoint-per-mutation extension and the pre-execution checks of a request.

pub mod batching;
pub mod complexity;
pub mod pagination;
mod request;
pub mod subscriptions;

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, MergedObject, MergedSubscription, Schema, SchemaBuilder,
    ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};
use sea_orm::DatabaseTransaction;

pub use request::{
    OperationInfo, analyze_operation, check_literal_lists, check_variable_lists, finalize_response,
    selected_operation,
};

use crate::{
    AppContext,
    admin::schema::{AdminMutation, AdminQuery},
    auth::{
        Principal,
        schema::{AuthMutation, AuthQuery},
    },
    crm::schema::{CrmMutation, CrmQuery, CrmSubscription},
    dashboard::schema::{DashboardQuery, DashboardSubscription},
    error::{AppError, AppResult},
    events::schema::{EventsQuery, EventsSubscription},
    tenancy::TenantTx,
};

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

fn with_limits<Q, M, S>(
    mut builder: SchemaBuilder<Q, M, S>,
    app: Option<AppContext>,
) -> SchemaBuilder<Q, M, S> {
    if let Some(app) = app {
        let limits = &app.config.limits;
        builder = builder
            .limit_depth(limits.max_depth)
            .limit_complexity(limits.max_complexity);
        if app.config.is_production() {
            builder = builder.disable_suggestions();
        }
        builder = builder.data(app);
    }
    builder
}

/// Accessors every resolver uses; each fails with a typed error, never a panic.
pub trait ContextExt {
    fn app(&self) -> AppResult<&AppContext>;
    fn tenant_tx(&self) -> AppResult<&Arc<TenantTx>>;
    fn principal(&self) -> AppResult<&Principal>;
    fn conn(&self) -> impl Future<Output = AppResult<&DatabaseTransaction>> + Send;
}

impl ContextExt for Context<'_> {
    fn app(&self) -> AppResult<&AppContext> {
        self.data::<AppContext>()
            .map_err(|_| AppError::internal("application context missing"))
    }

    fn tenant_tx(&self) -> AppResult<&Arc<TenantTx>> {
        self.data::<Arc<TenantTx>>()
            .map_err(|_| AppError::internal("tenant transaction missing"))
    }

    fn principal(&self) -> AppResult<&Principal> {
        self.data_opt::<Principal>()
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))
    }

    async fn conn(&self) -> AppResult<&DatabaseTransaction> {
        self.tenant_tx()?.conn().await
    }
}

/// Runs each top-level mutation field so that a failed one leaves no trace: in a savepoint
/// when the operation has several, otherwise by rolling back the request's transaction.
struct MutationSavepoints;

impl ExtensionFactory for MutationSavepoints {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MutationSavepoints)
    }
}

const SAVEPOINT: &str = "nexo_mutation";

#[async_trait::async_trait]
impl Extension for MutationSavepoints {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let top_level_mutation = info.path_node.parent.is_none() && info.parent_type == "Mutation";
        let tx = match ctx.data_opt::<Arc<TenantTx>>() {
            Some(tx) if top_level_mutation => tx.clone(),
            _ => return next.run(ctx, info).await,
        };
        let pos = info.field.name.pos;
        if !tx.uses_savepoints() {
            let result = next.run(ctx, info).await;
            if result.is_err() {
                tx.mark_mutation_failed();
            }
            return result;
        }
        tx.savepoint(SAVEPOINT)
            .await
            .map_err(|e| e.to_graphql().into_server_error(pos))?;
        let result = next.run(ctx, info).await;
        let rollback = result.is_err() && !tx.keeps_work_on_error();
        tx.release_savepoint(SAVEPOINT, rollback)
            .await
            .map_err(|e| e.to_graphql().into_server_error(pos))?;
        result
    }
}
