//! What a payment announces: `payment.recorded` (a refund is a negative payment). Payments
//! are never changed or deleted: a mistake is corrected by a refund.

use entity::tenant::payment;
use platform::{
    audit::{AuditEntityType, Audited},
    events::catalog::EventType,
};
use uuid::Uuid;

pub const RECORDED: EventType = EventType::new("payment.recorded");
pub const UPDATED: EventType = EventType::new("payment.updated");
pub const DELETED: EventType = EventType::new("payment.deleted");

/// The payment as the audit trail and the event log know it.
pub struct Payments;

impl Audited for Payments {
    type Entity = payment::Entity;
    const KIND: AuditEntityType = AuditEntityType::Payment;
    const CREATED: EventType = RECORDED;
    const UPDATED: EventType = UPDATED;
    const DELETED: EventType = DELETED;
    const EVENTS: &'static [EventType] = &[RECORDED, UPDATED, DELETED];

    fn id(model: &payment::Model) -> Uuid {
        model.id
    }
}
