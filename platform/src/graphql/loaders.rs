//! Per-request dataloaders bound to the request's tenant transaction. A loader holds only a
//! weak reference to it (the transaction must be committable as soon as execution ends),
//! and its batches run on the request's own task (see [`super::batching`]): a batch starts
//! as soon as the resolvers of a pass have all asked, with no timer window.
//!
//! A vertical declares its loaders with [`tx_loader!`] (any batch) or [`by_id!`] (rows by
//! primary key) and puts them on each request with [`attach_loaders!`] in the function it
//! registers as its `loaders`.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
};

use async_graphql::dataloader::DataLoader;

use super::batching::RequestSpawner;
use crate::{error::AppError, tenancy::TenantTx};

/// What a batch of `K` gives: a value per key found.
pub type LoadResult<K, V> = Result<HashMap<K, V>, Arc<AppError>>;

/// A loader made from the request's transaction.
pub trait TxLoader: Send + Sync + 'static {
    fn new(tx: Weak<TenantTx>) -> Self;
}

/// The request's transaction, while the request runs.
pub fn upgrade(tx: &Weak<TenantTx>) -> Result<Arc<TenantTx>, Arc<AppError>> {
    tx.upgrade()
        .ok_or_else(|| Arc::new(AppError::internal("request already finished")))
}

/// Loader `L` for one request, its batches run by the request's task.
pub fn loader<L: TxLoader>(tx: &Arc<TenantTx>, spawner: &RequestSpawner) -> DataLoader<L> {
    let spawner = spawner.clone();
    DataLoader::new(L::new(Arc::downgrade(tx)), move |f| spawner.spawn(f))
        .delay(std::time::Duration::ZERO)
}

/// Declares a loader: `Name, Key => Value, |conn, keys| async body giving
/// AppResult<HashMap<Key, Value>>`, run on the request's transaction.
#[macro_export]
macro_rules! tx_loader {
    ($(#[$meta:meta])* $name:ident, $key:ty => $value:ty, |$conn:ident, $keys:ident| $body:expr) => {
        $(#[$meta])*
        pub struct $name {
            tx: std::sync::Weak<$crate::tenancy::TenantTx>,
        }

        impl $crate::graphql::loaders::TxLoader for $name {
            fn new(tx: std::sync::Weak<$crate::tenancy::TenantTx>) -> Self {
                Self { tx }
            }
        }

        impl async_graphql::dataloader::Loader<$key> for $name {
            type Value = $value;
            type Error = std::sync::Arc<$crate::error::AppError>;

            async fn load(
                &self,
                $keys: &[$key],
            ) -> $crate::graphql::loaders::LoadResult<$key, $value> {
                let tx = $crate::graphql::loaders::upgrade(&self.tx)?;
                let $conn = tx.conn().await.map_err(std::sync::Arc::new)?;
                let result: $crate::error::AppResult<std::collections::HashMap<$key, $value>> =
                    async { $body }.await;
                result.map_err(std::sync::Arc::new)
            }
        }
    };
}

/// Declares a loader of `$entity`'s rows by id.
#[macro_export]
macro_rules! by_id {
    ($(#[$meta:meta])* $name:ident, $entity:ident) => {
        $crate::tx_loader!($(#[$meta])* $name, uuid::Uuid => $entity::Model, |conn, keys| {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            Ok($entity::Entity::find()
                .filter($entity::Column::Id.is_in(keys.iter().copied()))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect())
        });
    };
}

/// Puts loaders on a request: `attach_loaders!(request, tx, spawner, A, B, ...)`.
#[macro_export]
macro_rules! attach_loaders {
    ($request:expr, $tx:expr, $spawner:expr, $($loader:ty),+ $(,)?) => {
        $request$(.data($crate::graphql::loaders::loader::<$loader>($tx, $spawner)))+
    };
}
