//! CRM GraphQL types and resolvers; thin: parse input, call the service, map the result.

mod inputs;
mod mutation;
mod objects;
mod query;
mod subscription;

pub use mutation::CrmMutation;
pub use objects::{Money, money as objects_money};
pub use query::CrmQuery;
pub(crate) use subscription::check_pipeline;
pub use subscription::{BoardSnapshot, CrmSubscription};

use std::{hash::Hash, sync::Arc};

use async_graphql::{
    Context,
    dataloader::{DataLoader, Loader},
};

use crate::error::{AppError, AppResult};

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
