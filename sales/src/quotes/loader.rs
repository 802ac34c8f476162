//! Quotes' dataloaders.

use std::collections::HashMap;

use entity::tenant::{document_line, quote};
use platform::{by_id, tx_loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

by_id!(QuoteById, quote);

tx_loader!(
    /// Quote id -> its lines in order.
    LinesByQuote, Uuid => Vec<document_line::Model>, |conn, keys| {
        let rows = document_line::Entity::find()
            .filter(document_line::Column::QuoteId.is_in(keys.iter().copied()))
            .order_by_asc(document_line::Column::QuoteId)
            .order_by_asc(document_line::Column::Position)
            .all(conn)
            .await?;
        let mut by_quote: HashMap<Uuid, Vec<document_line::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(quote_id) = row.quote_id {
                by_quote.entry(quote_id).or_default().push(row);
            }
        }
        Ok(by_quote)
    }
);
