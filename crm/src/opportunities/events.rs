//! What an opportunity's changes announce: besides `created`, `updated` and `deleted`, its
//! moves through the pipeline: `stage_changed`, `won`, `lost`, `reopened`, and `moved` (a
//! new place within its stage). An update that also moved it announces both.

use entity::tenant::opportunity;
use platform::{
    audit::{AuditAction, AuditEntityType, Audited},
    events::catalog::EventType,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

pub const CREATED: EventType = EventType::new("opportunity.created");
pub const UPDATED: EventType = EventType::new("opportunity.updated");
pub const DELETED: EventType = EventType::new("opportunity.deleted");
pub const STAGE_CHANGED: EventType = EventType::new("opportunity.stage_changed");
pub const WON: EventType = EventType::new("opportunity.won");
pub const LOST: EventType = EventType::new("opportunity.lost");
pub const REOPENED: EventType = EventType::new("opportunity.reopened");
pub const MOVED: EventType = EventType::new("opportunity.moved");

/// The fields a move through the pipeline changes; changes to any other are an update.
const FLOW: &[&str] = &[
    "stage_id",
    "position",
    "status",
    "closed_at",
    "lost_reason",
    "stage_entered_at",
];

/// What a board's consumers read of an opportunity event's entity.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnPipeline {
    pub pipeline_id: Uuid,
}

/// The opportunity as the audit trail and the event log know it.
pub struct Opportunities;

impl Audited for Opportunities {
    type Entity = opportunity::Entity;
    const KIND: AuditEntityType = AuditEntityType::Opportunity;
    const CREATED: EventType = CREATED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] = &[
        CREATED,
        UPDATED,
        DELETED,
        STAGE_CHANGED,
        WON,
        LOST,
        REOPENED,
        MOVED,
    ];

    fn id(model: &opportunity::Model) -> Uuid {
        model.id
    }

    fn events(action: AuditAction, changes: &Map<String, Value>) -> Vec<EventType> {
        match action {
            AuditAction::Create => return vec![CREATED],
            AuditAction::Delete => return vec![DELETED],
            AuditAction::Update | AuditAction::Revert => {}
        }
        let mut events = Vec::new();
        if changes.contains_key("stage_id") {
            events.push(STAGE_CHANGED);
        }
        if let Some(status) = changes.get("status").and_then(|c| c["after"].as_str()) {
            events.push(match status {
                "won" => WON,
                "lost" => LOST,
                _ => REOPENED,
            });
        }
        if changes.keys().any(|k| !FLOW.contains(&k.as_str())) {
            events.push(UPDATED);
        }
        if events.is_empty() {
            events.push(MOVED);
        }
        events
    }
}
