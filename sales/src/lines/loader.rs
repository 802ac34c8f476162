//! Lines' dataloaders: a document id -> its lines in order, for each kind of document.

use std::collections::HashMap;

use entity::tenant::document_line;
use platform::{error::AppResult, tx_loader};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

async fn lines_of<C: ConnectionTrait>(
    conn: &C,
    column: document_line::Column,
    keys: &[Uuid],
    owner_of: fn(&document_line::Model) -> Option<Uuid>,
) -> AppResult<HashMap<Uuid, Vec<document_line::Model>>> {
    let rows = document_line::Entity::find()
        .filter(column.is_in(keys.iter().copied()))
        .order_by_asc(column)
        .order_by_asc(document_line::Column::Position)
        .all(conn)
        .await?;
    let mut by_owner: HashMap<Uuid, Vec<document_line::Model>> =
        keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(owner) = owner_of(&row) {
            by_owner.entry(owner).or_default().push(row);
        }
    }
    Ok(by_owner)
}

tx_loader!(
    /// Quote id -> its lines in order.
    LinesByQuote, Uuid => Vec<document_line::Model>, |conn, keys| {
        lines_of(conn, document_line::Column::QuoteId, keys, |l| l.quote_id).await
    }
);

tx_loader!(
    /// Invoice id -> its lines in order.
    LinesByInvoice, Uuid => Vec<document_line::Model>, |conn, keys| {
        lines_of(conn, document_line::Column::InvoiceId, keys, |l| l.invoice_id).await
    }
);

tx_loader!(
    /// Credit note id -> its lines in order.
    LinesByCreditNote, Uuid => Vec<document_line::Model>, |conn, keys| {
        lines_of(conn, document_line::Column::CreditNoteId, keys, |l| l.credit_note_id).await
    }
);
