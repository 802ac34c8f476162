//! Invoices' dataloaders.

use std::collections::HashMap;

use entity::tenant::{credit_note, invoice, payment_allocation};
use platform::{by_id, tx_loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

by_id!(InvoiceById, invoice);

tx_loader!(
    /// Invoice id -> its credit notes, oldest first.
    CreditNotesByInvoice, Uuid => Vec<credit_note::Model>, |conn, keys| {
        let rows = credit_note::Entity::find()
            .filter(credit_note::Column::InvoiceId.is_in(keys.iter().copied()))
            .order_by_asc(credit_note::Column::Id)
            .all(conn)
            .await?;
        let mut by_invoice: HashMap<Uuid, Vec<credit_note::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_invoice.entry(row.invoice_id).or_default().push(row);
        }
        Ok(by_invoice)
    }
);

tx_loader!(
    /// Invoice id -> the payments allocated to it, oldest first.
    AllocationsByInvoice, Uuid => Vec<payment_allocation::Model>, |conn, keys| {
        let rows = payment_allocation::Entity::find()
            .filter(payment_allocation::Column::InvoiceId.is_in(keys.iter().copied()))
            .order_by_asc(payment_allocation::Column::Id)
            .all(conn)
            .await?;
        let mut by_invoice: HashMap<Uuid, Vec<payment_allocation::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_invoice.entry(row.invoice_id).or_default().push(row);
        }
        Ok(by_invoice)
    }
);
