//! The catalog's dataloaders.

use std::collections::HashMap;

use entity::tenant::{product, product_component, tax_rate};
use platform::{by_id, tx_loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

by_id!(ProductById, product);
by_id!(TaxRateById, tax_rate);

tx_loader!(
    /// Bundle id -> its components in order.
    ComponentsByBundle, Uuid => Vec<product_component::Model>, |conn, keys| {
        let rows = product_component::Entity::find()
            .filter(product_component::Column::BundleId.is_in(keys.iter().copied()))
            .order_by_asc(product_component::Column::Position)
            .all(conn)
            .await?;
        let mut by_bundle: HashMap<Uuid, Vec<product_component::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_bundle.entry(row.bundle_id).or_default().push(row);
        }
        Ok(by_bundle)
    }
);
