//! The CRM audit trail: every create, update and delete writes who, when, what and the
//! changed fields before and after, in the same transaction as the change.

pub mod schema;

use chrono::Utc;
use entity::tenant::audit_entry;
use platform::{auth::Principal, error::AppResult, events::log as events};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::types::{AuditAction, AuditEntityType};

/// Columns that change on every write or derive from others: never shown as changes.
pub(crate) const NOISE: &[&str] = &["id", "created_at", "updated_at", "name_key", "search_text"];

/// An entity's state as the audit trail sees it: a JSON object of field -> value.
pub type Snapshot = Map<String, Value>;

pub fn snapshot<T: serde::Serialize>(model: &T) -> Snapshot {
    match serde_json::to_value(model) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The fields that differ, as `{field: {before, after}}`.
pub(crate) fn diff(before: Option<&Snapshot>, after: Option<&Snapshot>) -> Map<String, Value> {
    let empty = Map::new();
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !NOISE.contains(&k.as_str()))
        .filter_map(|k| {
            let (old, new) = (
                b.get(k).unwrap_or(&Value::Null),
                a.get(k).unwrap_or(&Value::Null),
            );
            (old != new).then(|| (k.clone(), json!({"before": old, "after": new})))
        })
        .collect()
}

/// One change to record.
pub struct Change<'a> {
    pub actor: Uuid,
    pub entity_type: AuditEntityType,
    pub entity_id: Uuid,
    pub before: Option<&'a Snapshot>,
    pub after: Option<&'a Snapshot>,
    /// Set when the change restores the values an earlier entry replaced.
    pub revert_of: Option<Uuid>,
}

impl<'a> Change<'a> {
    /// `actor` created the entity; `after` is what it now is.
    pub fn created(
        actor: &Principal,
        entity_type: AuditEntityType,
        entity_id: Uuid,
        after: &'a Snapshot,
    ) -> Self {
        Self {
            actor: actor.user_id,
            entity_type,
            entity_id,
            before: None,
            after: Some(after),
            revert_of: None,
        }
    }

    /// `actor` changed the entity from `before` to `after`, restoring what `revert_of`
    /// replaced when it is set.
    pub fn updated(
        actor: &Principal,
        entity_type: AuditEntityType,
        entity_id: Uuid,
        before: &'a Snapshot,
        after: &'a Snapshot,
        revert_of: Option<Uuid>,
    ) -> Self {
        Self {
            actor: actor.user_id,
            entity_type,
            entity_id,
            before: Some(before),
            after: Some(after),
            revert_of,
        }
    }

    /// `actor` deleted the entity; `before` is what it was.
    pub fn deleted(
        actor: &Principal,
        entity_type: AuditEntityType,
        entity_id: Uuid,
        before: &'a Snapshot,
    ) -> Self {
        Self {
            actor: actor.user_id,
            entity_type,
            entity_id,
            before: Some(before),
            after: None,
            revert_of: None,
        }
    }
}

impl Change<'_> {
    /// Records the change in the transaction of `conn`: its audit entry and its domain events.
    pub async fn record<C: ConnectionTrait>(self, conn: &C) -> AppResult<()> {
        record(conn, self).await
    }
}

/// Records a change; its action follows from what exists before and after. An update that
/// changed nothing records nothing.
async fn record<C: ConnectionTrait>(conn: &C, change: Change<'_>) -> AppResult<()> {
    let Change {
        actor,
        entity_type,
        entity_id,
        before,
        after,
        revert_of,
    } = change;
    let action = match (before, after, revert_of) {
        (None, _, _) => AuditAction::Create,
        (Some(_), None, _) => AuditAction::Delete,
        (Some(_), Some(_), None) => AuditAction::Update,
        (Some(_), Some(_), Some(_)) => AuditAction::Revert,
    };
    let changes = diff(before, after);
    if changes.is_empty() && matches!(action, AuditAction::Update | AuditAction::Revert) {
        return Ok(());
    }
    audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(Some(actor)),
        entity_type: Set(entity_type.as_str().to_owned()),
        entity_id: Set(entity_id),
        action: Set(action.as_str().to_owned()),
        changes: Set(Value::Object(changes.clone())),
        revert_of: Set(revert_of),
        at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    for (event_type, payload) in domain_events(entity_type, action, &changes, before, after) {
        events::append(
            conn,
            events::NewEvent {
                event_type,
                entity_type: entity_type.as_str(),
                entity_id,
                actor: Some(actor),
                payload,
            },
        )
        .await?;
    }
    Ok(())
}

/// The domain events of a change: `<entity>.created|updated|deleted`, `activity.logged`
/// and `activity.completed`, and for opportunities `stage_changed`, `won`, `lost` and
/// `reopened` (with `updated` only when other fields changed too). Each carries the entity
/// as it now is (as it was, for a delete) and the changed fields, named as the API names them.
pub(crate) fn domain_events(
    entity_type: AuditEntityType,
    action: AuditAction,
    changes: &Map<String, Value>,
    before: Option<&Snapshot>,
    after: Option<&Snapshot>,
) -> Vec<(String, Value)> {
    let entity = after.or(before).map(camel_case_keys).unwrap_or_default();
    let changed: Map<String, Value> = changes
        .iter()
        .map(|(field, change)| (camel_case(field), change.clone()))
        .collect();
    let payload = json!({"entity": entity, "changes": changed});
    let kind = entity_type.as_str();
    let mut names: Vec<String> = Vec::new();
    match action {
        AuditAction::Create if entity_type == AuditEntityType::Activity => {
            names.push("activity.logged".into())
        }
        AuditAction::Create => names.push(format!("{kind}.created")),
        AuditAction::Delete => names.push(format!("{kind}.deleted")),
        AuditAction::Update | AuditAction::Revert => {
            const FLOW: &[&str] = &[
                "stage_id",
                "position",
                "status",
                "closed_at",
                "lost_reason",
                "stage_entered_at",
            ];
            if entity_type == AuditEntityType::Opportunity {
                if changes.contains_key("stage_id") {
                    names.push("opportunity.stage_changed".into());
                }
                if let Some(status) = changes.get("status").and_then(|c| c["after"].as_str()) {
                    names.push(match status {
                        "won" => "opportunity.won".into(),
                        "lost" => "opportunity.lost".into(),
                        _ => "opportunity.reopened".into(),
                    });
                }
                if changes.keys().any(|k| !FLOW.contains(&k.as_str())) {
                    names.push("opportunity.updated".into());
                }
                if names.is_empty() {
                    // A move within its stage.
                    names.push("opportunity.moved".into());
                }
            } else if entity_type == AuditEntityType::Activity
                && changes
                    .get("completed_at")
                    .is_some_and(|c| !c["after"].is_null())
            {
                names.push("activity.completed".into());
            } else {
                names.push(format!("{kind}.updated"));
            }
        }
    }
    names
        .into_iter()
        .map(|name| (name, payload.clone()))
        .collect()
}

pub(crate) fn camel_case_keys(snapshot: &Snapshot) -> Map<String, Value> {
    snapshot
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name_key" | "search_text"))
        .map(|(k, v)| (camel_case(k), v.clone()))
        .collect()
}

/// `value_amount` -> `valueAmount`: stored fields named as the API names them.
pub fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The values an entry's changes had before it, field by field.
pub fn values_before(entry: &audit_entry::Model) -> Snapshot {
    entry
        .changes
        .as_object()
        .map(|changes| {
            changes
                .iter()
                .map(|(field, change)| (field.clone(), change["before"].clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The newest entry about an entity.
pub async fn latest_for<C: ConnectionTrait>(
    conn: &C,
    entity_id: Uuid,
) -> AppResult<Option<audit_entry::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::EntityId.eq(entity_id))
        .order_by_desc(audit_entry::Column::Id)
        .one(conn)
        .await?)
}
