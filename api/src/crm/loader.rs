//! Per-request dataloaders for CRM edges. They hold only a weak reference to the request's
//! tenant transaction: the transaction must be committable as soon as execution ends.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
};

use async_graphql::dataloader::Loader;
use entity::tenant::pipeline_stage;
use uuid::Uuid;

use super::service;
use crate::{error::AppError, tenancy::TenantTx};

/// pipeline id -> its stages in board order.
pub struct StagesByPipeline {
    tx: Weak<TenantTx>,
}

impl StagesByPipeline {
    pub fn new(tx: &Arc<TenantTx>) -> Self {
        Self {
            tx: Arc::downgrade(tx),
        }
    }
}

impl Loader<Uuid> for StagesByPipeline {
    type Value = Vec<pipeline_stage::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let tx = self
            .tx
            .upgrade()
            .ok_or_else(|| Arc::new(AppError::internal("request already finished")))?;
        let conn = tx.conn().await.map_err(Arc::new)?;
        service::stages_by_pipeline(conn, keys)
            .await
            .map_err(Arc::new)
    }
}
