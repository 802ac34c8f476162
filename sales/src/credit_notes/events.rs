//! What a credit note's changes announce: `created`, `updated` and `deleted` while a draft,
//! `issued` once numbered.

use entity::tenant::credit_note;
use platform::{
    audit::{AuditAction, AuditEntityType, Audited},
    events::catalog::EventType,
};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const CREATED: EventType = EventType::new("credit_note.created");
pub const UPDATED: EventType = EventType::new("credit_note.updated");
pub const DELETED: EventType = EventType::new("credit_note.deleted");
pub const ISSUED: EventType = EventType::new("credit_note.issued");

/// The credit note as the audit trail and the event log know it.
pub struct CreditNotes;

impl Audited for CreditNotes {
    type Entity = credit_note::Entity;
    const KIND: AuditEntityType = AuditEntityType::CreditNote;
    const CREATED: EventType = CREATED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] = &[CREATED, UPDATED, DELETED, ISSUED];

    fn id(model: &credit_note::Model) -> Uuid {
        model.id
    }

    fn events(action: AuditAction, changes: &Map<String, Value>) -> Vec<EventType> {
        match action {
            AuditAction::Create => vec![CREATED],
            AuditAction::Delete => vec![DELETED],
            AuditAction::Update | AuditAction::Revert => {
                if changes.get("status").and_then(|c| c["after"].as_str()) == Some("issued") {
                    vec![ISSUED]
                } else {
                    vec![UPDATED]
                }
            }
        }
    }
}
