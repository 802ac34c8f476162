//! What every resolver and schema shares: request context accessors, pagination, the
//! savepoint-per-mutation extension, request limits and the pre-execution checks of a
//! request. The schemas themselves are composed in `verticals.rs`.

pub mod batching;
pub mod complexity;
pub mod input;
pub mod loaders;
mod money;
pub mod pagination;
mod request;
pub mod subscriptions;

use std::{hash::Hash, sync::Arc};

use async_graphql::{
    Context, SchemaBuilder, ServerResult, Value,
    dataloader::{DataLoader, Loader},
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};
use sea_orm::DatabaseTransaction;

pub use money::{Money, money};
pub use request::{
    OperationInfo, analyze_operation, check_literal_lists, check_variable_lists, finalize_response,
    selected_operation,
};

use crate::{
    AppContext,
    auth::Principal,
    error::{AppError, AppResult},
    tenancy::TenantTx,
};

/// The request limits (depth, complexity) and the application context on a schema; in
/// production, no suggestions in errors. `app` is `None` only when printing the SDL.
pub fn with_limits<Q, M, S>(
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

/// Loads one value through the request's dataloader `L`.
pub async fn load_one<L, K>(ctx: &Context<'_>, key: K) -> AppResult<Option<L::Value>>
where
    L: Loader<K, Error = Arc<AppError>>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    let loader = ctx
        .data::<DataLoader<L>>()
        .map_err(|_| AppError::internal("dataloader missing from the request"))?;
    loader
        .load_one(key)
        .await
        .map_err(|e| AppError::internal(e.message()))
}

/// Runs each top-level mutation field so that a failed one leaves no trace: in a savepoint
/// when the operation has several, otherwise by rolling back the request's transaction.
pub struct MutationSavepoints;

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

/// The tenant of the calling WebSocket connection.
pub fn subscriber_tenant(ctx: &Context<'_>) -> AppResult<Arc<crate::tenancy::Tenant>> {
    ctx.data::<Arc<crate::tenancy::Tenant>>()
        .cloned()
        .map_err(|_| AppError::internal("subscription without a tenant"))
}
