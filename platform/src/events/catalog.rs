//! The catalog of domain events: each event type is a Rust value, declared beside the entity
//! it is about, and every vertical registers its own. Consumers compare types and read
//! payloads as structs, never by spelling names or digging through JSON.

use entity::tenant::event;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// A kind of domain event, named `<entity>.<what happened>` (`opportunity.stage_changed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventType(&'static str);

impl EventType {
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// Its name on the log.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The kind of entity it is about: the name up to its first dot.
    pub fn entity(self) -> &'static str {
        self.0.split_once('.').map_or(self.0, |(entity, _)| entity)
    }

    /// Whether the logged `event` is of this type.
    pub fn is(self, event: &event::Model) -> bool {
        event.event_type == self.0
    }
}

/// What every entity event carries: the entity as it now is (as it was, for a delete) and
/// the changed fields with their values before and after, named as the API names them.
/// Serialized once per change, however many events the change announces.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityChange<E = Map<String, Value>> {
    pub entity: E,
    #[serde(default)]
    pub changes: Map<String, Value>,
}

/// The entity of an entity event alone, for consumers that do not read its changes (they
/// are skipped, not decoded).
#[derive(Clone, Debug, Deserialize)]
pub struct EntityOf<E> {
    pub entity: E,
}

/// The payload of `event` read as `P` when the event is one of `types`; `None` for any other
/// event, or one whose payload does not read as `P`.
pub fn payload_of<P: DeserializeOwned>(event: &event::Model, types: &[EventType]) -> Option<P> {
    if !types.iter().any(|t| t.is(event)) {
        return None;
    }
    P::deserialize(&event.payload).ok()
}
