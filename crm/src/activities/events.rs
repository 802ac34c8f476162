//! What an activity's changes announce: `activity.logged` when it is created,
//! `activity.completed` when a task is done, otherwise `activity.updated` and `.deleted`.

use entity::tenant::activity;
use platform::{
    audit::{AuditAction, AuditEntityType, Audited},
    events::catalog::EventType,
};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const LOGGED: EventType = EventType::new("activity.logged");
pub const COMPLETED: EventType = EventType::new("activity.completed");
pub const UPDATED: EventType = EventType::new("activity.updated");
pub const DELETED: EventType = EventType::new("activity.deleted");

/// The activity as the audit trail and the event log know it.
pub struct Activities;

impl Audited for Activities {
    type Entity = activity::Entity;
    const KIND: AuditEntityType = AuditEntityType::Activity;
    const CREATED: EventType = LOGGED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] = &[LOGGED, COMPLETED, UPDATED, DELETED];

    fn id(model: &activity::Model) -> Uuid {
        model.id
    }

    fn events(action: AuditAction, changes: &Map<String, Value>) -> Vec<EventType> {
        let completed = changes
            .get("completed_at")
            .is_some_and(|c| !c["after"].is_null());
        vec![match action {
            AuditAction::Create => LOGGED,
            AuditAction::Delete => DELETED,
            AuditAction::Update | AuditAction::Revert if completed => COMPLETED,
            AuditAction::Update | AuditAction::Revert => UPDATED,
        }]
    }
}
