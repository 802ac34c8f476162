//! What a quote's changes announce: besides `created`, `updated` and `deleted`, each step of
//! its life: `sent`, `accepted`, `rejected`, `expired`, `superseded`, `cancelled`.

use entity::tenant::quote;
use platform::{
    audit::{AuditAction, AuditEntityType, Audited},
    events::catalog::EventType,
};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const CREATED: EventType = EventType::new("quote.created");
pub const UPDATED: EventType = EventType::new("quote.updated");
pub const DELETED: EventType = EventType::new("quote.deleted");
pub const SENT: EventType = EventType::new("quote.sent");
pub const ACCEPTED: EventType = EventType::new("quote.accepted");
pub const REJECTED: EventType = EventType::new("quote.rejected");
pub const EXPIRED: EventType = EventType::new("quote.expired");
pub const SUPERSEDED: EventType = EventType::new("quote.superseded");
pub const CANCELLED: EventType = EventType::new("quote.cancelled");

/// The fields a step of a quote's life changes; changes to any other are an update.
const FLOW: &[&str] = &[
    "status",
    "series_id",
    "sequence",
    "number",
    "expires_at",
    "buyer",
    "link_hash",
    "sent_at",
    "decided_at",
    "decision",
];

/// The quote as the audit trail and the event log know it.
pub struct Quotes;

impl Audited for Quotes {
    type Entity = quote::Entity;
    const KIND: AuditEntityType = AuditEntityType::Quote;
    const CREATED: EventType = CREATED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] = &[
        CREATED, UPDATED, DELETED, SENT, ACCEPTED, REJECTED, EXPIRED, SUPERSEDED, CANCELLED,
    ];

    fn id(model: &quote::Model) -> Uuid {
        model.id
    }

    fn events(action: AuditAction, changes: &Map<String, Value>) -> Vec<EventType> {
        match action {
            AuditAction::Create => return vec![CREATED],
            AuditAction::Delete => return vec![DELETED],
            AuditAction::Update | AuditAction::Revert => {}
        }
        let mut events = Vec::new();
        if let Some(status) = changes.get("status").and_then(|c| c["after"].as_str()) {
            events.extend(match status {
                "sent" => Some(SENT),
                "accepted" => Some(ACCEPTED),
                "rejected" => Some(REJECTED),
                "expired" => Some(EXPIRED),
                "superseded" => Some(SUPERSEDED),
                "cancelled" => Some(CANCELLED),
                _ => None,
            });
        }
        if changes.keys().any(|k| !FLOW.contains(&k.as_str())) {
            events.push(UPDATED);
        }
        events
    }
}
