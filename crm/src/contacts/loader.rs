//! Contacts' dataloaders.

use std::collections::HashMap;

use entity::tenant::{contact, contact_tag, opportunity};
use platform::{by_id, tx_loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::shared::first_of_each;

by_id!(ContactById, contact);

tx_loader!(
    /// contact id -> its tags, sorted.
    TagsByContact, Uuid => Vec<String>, |conn, keys| {
        let rows = contact_tag::Entity::find()
            .filter(contact_tag::Column::ContactId.is_in(keys.iter().copied()))
            .order_by_asc(contact_tag::Column::ContactId)
            .order_by_asc(contact_tag::Column::Tag)
            .all(conn)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in rows {
            grouped.entry(row.contact_id).or_default().push(row.tag);
        }
        Ok(grouped)
    }
);

tx_loader!(
    /// (contact id, n) -> its first n opportunities.
    OpportunitiesByContact, (Uuid, u64) => Vec<opportunity::Model>, |conn, keys| {
        first_of_each::<opportunity::Entity, _>(conn, "opportunities", "contact_id", keys, |o| o.contact_id).await
    }
);
