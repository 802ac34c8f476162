//! Opportunities' dataloaders.

use std::collections::HashMap;

use entity::tenant::{activity, opportunity, stage_change};
use platform::{by_id, tx_loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::activities;

by_id!(OpportunityById, opportunity);

tx_loader!(
    /// opportunity id -> its latest activity.
    LatestActivity, Uuid => activity::Model, |conn, keys| {
        activities::latest_per_opportunity(conn, keys).await
    }
);

tx_loader!(
    /// opportunity id -> its stage changes, oldest first.
    StageHistory, Uuid => Vec<stage_change::Model>, |conn, keys| {
        let rows = stage_change::Entity::find()
            .filter(stage_change::Column::OpportunityId.is_in(keys.iter().copied()))
            .order_by_asc(stage_change::Column::Id)
            .all(conn)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<stage_change::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(row.opportunity_id).or_default().push(row);
        }
        Ok(grouped)
    }
);
