//! The audit trail: every create, update and delete of an audited entity writes who, when,
//! what and the changed fields before and after, in the same transaction as the change,
//! together with the change's domain events. Each vertical declares its audited entities
//! (an [`Audited`] marker beside the entity: its kind and its event types) and registers
//! how an update of each is reverted; the history and the revert are served once for all.

use chrono::Utc;
use entity::tenant::audit_entry;
use futures::future::BoxFuture;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PrimaryKeyTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    auth::{Principal, Role},
    error::{AppError, AppResult},
    events::{
        catalog::{EntityChange, EventType},
        log as events,
    },
};

// Every vertical's audited kinds, in one GraphQL enum: a new audited entity adds its line
// here, the one line it adds outside its vertical.
crate::stored_enum!(
    /// What kind of thing an audit entry is about.
    AuditEntityType {
        Contact => "contact",
        Company => "company",
        Opportunity => "opportunity",
        Activity => "activity",
        Pipeline => "pipeline",
        Stage => "stage",
        TaxRate => "tax_rate",
        Product => "product",
        Quote => "quote",
        Invoice => "invoice",
        CreditNote => "credit_note",
        Payment => "payment",
    }
);

crate::stored_enum!(
    AuditAction {
        Create => "create",
        Update => "update",
        Delete => "delete",
        /// An update that restored earlier values.
        Revert => "revert",
    }
);

/// Columns that change on every write or derive from others: never shown as changes.
const NOISE: &[&str] = &["id", "created_at", "updated_at", "name_key", "search_text"];

/// Derived columns: never shown in an event's entity either.
const DERIVED: &[&str] = &["name_key", "search_text"];

/// An entity's state as the audit trail sees it: a JSON object of stored field -> value.
pub type Snapshot = Map<String, Value>;

pub fn snapshot<T: Serialize>(model: &T) -> Snapshot {
    match serde_json::to_value(model) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// An entity the audit trail records and the event log announces, declared by a marker type
/// beside the entity in its vertical: its kind, and its event types. Its changes are
/// recorded through the provided constructors:
/// `Contacts::updated(actor, id, &before, &after, None).record(conn)`.
pub trait Audited {
    /// Its table.
    type Entity: EntityTrait<Model: Serialize + Send + Sync, ActiveModel: Send>;
    const KIND: AuditEntityType;
    const CREATED: EventType;
    const UPDATED: EventType;
    const DELETED: EventType;
    /// Every event type its changes may announce: its entries in the catalog.
    const EVENTS: &'static [EventType];

    /// The events a change announces, given its action and its changed (stored) fields. By
    /// default its created, updated or deleted event.
    fn events(action: AuditAction, _changes: &Map<String, Value>) -> Vec<EventType> {
        vec![match action {
            AuditAction::Create => Self::CREATED,
            AuditAction::Delete => Self::DELETED,
            AuditAction::Update | AuditAction::Revert => Self::UPDATED,
        }]
    }

    /// `actor` created the entity; `after` is what it now is.
    fn created(actor: &Principal, id: Uuid, after: &impl Serialize) -> Change
    where
        Self: Sized,
    {
        Change::of::<Self>(actor, id, None, Some(snapshot(after)), None)
    }

    /// `actor` changed the entity from `before` to `after`, restoring what `revert_of`
    /// replaced when it is set.
    fn updated(
        actor: &Principal,
        id: Uuid,
        before: &impl Serialize,
        after: &impl Serialize,
        revert_of: Option<Uuid>,
    ) -> Change
    where
        Self: Sized,
    {
        Change::of::<Self>(
            actor,
            id,
            Some(snapshot(before)),
            Some(snapshot(after)),
            revert_of,
        )
    }

    /// `actor` deleted the entity; `before` is what it was.
    fn deleted(actor: &Principal, id: Uuid, before: &impl Serialize) -> Change
    where
        Self: Sized,
    {
        Change::of::<Self>(actor, id, Some(snapshot(before)), None, None)
    }

    /// A row's id.
    fn id(model: &ModelOf<Self>) -> Uuid;

    /// Inserts `row` and records its creation by `actor`: one way to write an audited
    /// entity, so that no write forgets its entry and its events.
    fn insert<C: ConnectionTrait>(
        conn: &C,
        actor: &Principal,
        row: ActiveOf<Self>,
    ) -> impl Future<Output = AppResult<ModelOf<Self>>> + Send
    where
        Self: Sized,
        ModelOf<Self>: IntoActiveModel<ActiveOf<Self>>,
    {
        async move {
            let model = row.insert(conn).await?;
            Self::created(actor, Self::id(&model), &model)
                .record(conn)
                .await?;
            Ok(model)
        }
    }

    /// Saves `row`, the changes to `current`, and records the update by `actor` (a revert
    /// of `revert_of` when set).
    fn update<C: ConnectionTrait>(
        conn: &C,
        actor: &Principal,
        current: &ModelOf<Self>,
        row: ActiveOf<Self>,
        revert_of: Option<Uuid>,
    ) -> impl Future<Output = AppResult<ModelOf<Self>>> + Send
    where
        Self: Sized,
        ModelOf<Self>: IntoActiveModel<ActiveOf<Self>>,
    {
        async move {
            let model = row.update(conn).await?;
            let id = Self::id(&model);
            Self::updated(actor, id, current, &model, revert_of)
                .record(conn)
                .await?;
            Ok(model)
        }
    }

    /// Deletes `current` and records its deletion by `actor`.
    fn delete<C: ConnectionTrait>(
        conn: &C,
        actor: &Principal,
        current: &ModelOf<Self>,
    ) -> impl Future<Output = AppResult<()>> + Send
    where
        Self: Sized,
        Uuid: Into<<<Self::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        async move {
            let id = Self::id(current);
            Self::Entity::delete_by_id(id).exec(conn).await?;
            Self::deleted(actor, id, current).record(conn).await
        }
    }
}

/// The rows of an audited entity.
pub type ModelOf<A> = <<A as Audited>::Entity as EntityTrait>::Model;

/// The changes to a row of an audited entity.
pub type ActiveOf<A> = <<A as Audited>::Entity as EntityTrait>::ActiveModel;

/// Declares the marker of an audited entity whose changes announce the plain
/// `<entity>.created`, `.updated` and `.deleted`:
/// `platform::audited!(/// The contact. pub Contacts: Contact = "contact" in contact);`,
/// `contact` being the entity's module (its `Entity` and `Model`, whose key is `id`).
#[macro_export]
macro_rules! audited {
    ($(#[$meta:meta])* $vis:vis $marker:ident: $kind:ident = $name:literal in $($entity:ident)::+) => {
        $(#[$meta])*
        $vis struct $marker;

        impl $crate::audit::Audited for $marker {
            type Entity = $($entity)::+::Entity;
            const KIND: $crate::audit::AuditEntityType = $crate::audit::AuditEntityType::$kind;
            const CREATED: $crate::events::catalog::EventType =
                $crate::events::catalog::EventType::new(concat!($name, ".created"));
            const UPDATED: $crate::events::catalog::EventType =
                $crate::events::catalog::EventType::new(concat!($name, ".updated"));
            const DELETED: $crate::events::catalog::EventType =
                $crate::events::catalog::EventType::new(concat!($name, ".deleted"));
            const EVENTS: &'static [$crate::events::catalog::EventType] =
                &[Self::CREATED, Self::UPDATED, Self::DELETED];

            fn id(model: &$($entity)::+::Model) -> ::uuid::Uuid {
                model.id
            }
        }
    };
}

/// One change to record, built by an [`Audited`] entity's constructors.
pub struct Change {
    /// None: a client on a public link.
    actor: Option<Uuid>,
    kind: AuditEntityType,
    entity_id: Uuid,
    before: Option<Snapshot>,
    after: Option<Snapshot>,
    /// Set when the change restores the values an earlier entry replaced.
    revert_of: Option<Uuid>,
    events: fn(AuditAction, &Map<String, Value>) -> Vec<EventType>,
}

impl Change {
    fn of<A: Audited>(
        actor: &Principal,
        entity_id: Uuid,
        before: Option<Snapshot>,
        after: Option<Snapshot>,
        revert_of: Option<Uuid>,
    ) -> Self {
        Self {
            actor: actor.user(),
            kind: A::KIND,
            entity_id,
            before,
            after,
            revert_of,
            events: A::events,
        }
    }

    /// Records the change in the transaction of `conn`: its audit entry and its domain
    /// events. Its action follows from what exists before and after; an update that changed
    /// nothing records nothing.
    pub async fn record<C: ConnectionTrait>(self, conn: &C) -> AppResult<()> {
        let (before, after) = (self.before.as_ref(), self.after.as_ref());
        let action = match (before, after, self.revert_of) {
            (None, _, _) => AuditAction::Create,
            (Some(_), None, _) => AuditAction::Delete,
            (Some(_), Some(_), None) => AuditAction::Update,
            (Some(_), Some(_), Some(_)) => AuditAction::Revert,
        };
        let changes = diff(before, after);
        if changes.is_empty() && matches!(action, AuditAction::Update | AuditAction::Revert) {
            return Ok(());
        }
        let event_types = (self.events)(action, &changes);
        let payload = serde_json::to_value(EntityChange {
            entity: after.or(before).map(api_fields).unwrap_or_default(),
            changes: changes
                .iter()
                .map(|(field, change)| (camel_case(field), change.clone()))
                .collect(),
        })
        .map_err(|e| AppError::internal(format!("an event payload did not serialize: {e}")))?;
        audit_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            actor_id: Set(self.actor),
            entity_type: Set(self.kind.as_str().to_owned()),
            entity_id: Set(self.entity_id),
            action: Set(action.as_str().to_owned()),
            changes: Set(Value::Object(changes)),
            revert_of: Set(self.revert_of),
            at: Set(Utc::now()),
        }
        .insert(conn)
        .await?;
        for event_type in event_types {
            events::append(
                conn,
                events::NewEvent {
                    event_type,
                    entity_id: self.entity_id,
                    actor: self.actor,
                    payload: payload.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// The fields that differ, as `{field: {before, after}}`.
fn diff(before: Option<&Snapshot>, after: Option<&Snapshot>) -> Map<String, Value> {
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

/// A snapshot's fields named as the API names them, without the derived ones.
fn api_fields(snapshot: &Snapshot) -> Map<String, Value> {
    snapshot
        .iter()
        .filter(|(k, _)| !DERIVED.contains(&k.as_str()))
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

/// Stored values read back as `T` (an update's changes: a struct of `Option`s and
/// `Patch`es with `#[serde(default)]`, whose field names are the stored ones). Fields the
/// values leave out keep their default.
pub fn restore<T: DeserializeOwned>(values: &Snapshot) -> AppResult<T> {
    serde_json::from_value(Value::Object(values.clone()))
        .map_err(|e| AppError::internal(format!("stored values did not read back: {e}")))
}

/// The newest entry about an entity.
pub async fn latest_for<C: ConnectionTrait>(
    conn: &C,
    entity_id: Uuid,
) -> AppResult<Option<audit_entry::Model>> {
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::EntityId.eq(entity_id))
        .order_by_desc(audit_entry::Column::Id)
        .one(conn)
        .await?)
}

/// What a revert restores: the entity, the values the reverted entry replaced (stored field
/// names), and the entry.
pub struct Restore {
    pub entity_id: Uuid,
    pub values: Snapshot,
    pub entry_id: Uuid,
}

/// Restores an entity's values by an update recorded as a revert of the entry.
pub type RevertFn =
    for<'a> fn(&'a DatabaseTransaction, &'a Principal, Restore) -> BoxFuture<'a, AppResult<()>>;

/// How a vertical reverts an update of one of its entities, and who may.
#[derive(Clone, Copy)]
pub struct Revertible {
    pub min_role: Role,
    pub revert: RevertFn,
}

/// The [`RevertFn`] of an entity whose update is `update(conn, actor, id, changes,
/// revert_of)`, its changes a struct read back from the stored values ([`restore`]).
#[macro_export]
macro_rules! revert_by_update {
    ($update:path) => {
        |conn, actor, restore: $crate::audit::Restore| {
            Box::pin(async move {
                let changes = $crate::audit::restore(&restore.values)?;
                $update(
                    conn,
                    actor,
                    restore.entity_id,
                    changes,
                    Some(restore.entry_id),
                )
                .await?;
                Ok(())
            })
        }
    };
}
