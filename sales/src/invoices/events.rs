//! What an invoice's changes announce: `created`, `updated` and `deleted` while a draft;
//! `issued` once numbered; then `credited` (an issued credit note) and `payment_applied`
//! (a payment or refund allocated to it).

use entity::tenant::invoice;
use platform::{
    audit::{AuditAction, AuditEntityType, Audited},
    events::catalog::EventType,
};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const CREATED: EventType = EventType::new("invoice.created");
pub const UPDATED: EventType = EventType::new("invoice.updated");
pub const DELETED: EventType = EventType::new("invoice.deleted");
pub const ISSUED: EventType = EventType::new("invoice.issued");
pub const CREDITED: EventType = EventType::new("invoice.credited");
pub const PAYMENT_APPLIED: EventType = EventType::new("invoice.payment_applied");

/// The fields issuing sets; with the status they are the `issued` event.
const ISSUING: &[&str] = &[
    "status",
    "series_id",
    "sequence",
    "number",
    "issue_date",
    "due_date",
    "buyer",
    "issued_at",
];

/// The invoice as the audit trail and the event log know it.
pub struct Invoices;

impl Audited for Invoices {
    type Entity = invoice::Entity;
    const KIND: AuditEntityType = AuditEntityType::Invoice;
    const CREATED: EventType = CREATED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] =
        &[CREATED, UPDATED, DELETED, ISSUED, CREDITED, PAYMENT_APPLIED];

    fn id(model: &invoice::Model) -> Uuid {
        model.id
    }

    fn events(action: AuditAction, changes: &Map<String, Value>) -> Vec<EventType> {
        match action {
            AuditAction::Create => return vec![CREATED],
            AuditAction::Delete => return vec![DELETED],
            AuditAction::Update | AuditAction::Revert => {}
        }
        let mut events = Vec::new();
        if changes.get("status").and_then(|c| c["after"].as_str()) == Some("issued") {
            events.push(ISSUED);
        }
        if changes.contains_key("credited_minor") {
            events.push(CREDITED);
        }
        if changes.contains_key("paid_minor") {
            events.push(PAYMENT_APPLIED);
        }
        let flow = |k: &String| {
            ISSUING.contains(&k.as_str()) || k == "credited_minor" || k == "paid_minor"
        };
        if changes.keys().any(|k| !flow(k)) {
            events.push(UPDATED);
        }
        events
    }
}
