//! Identity: a tenant's users (sign-in, sessions, setup and invites, roles and
//! deactivation) with the `User` every vertical's owners, authors and actors point to, and
//! the event log's API (who did what, in commit order). Tokens, principals and access
//! control are the platform's (`platform::auth`).

pub mod audit_trail;
pub mod event_log;
pub mod files;
pub mod jobs;
pub mod schema;
pub mod service;

use platform::{Verticals, events::catalog::EventType, graphql::subscriptions::Sharing};

/// A user was deactivated; the payload is `{"email": ...}`.
pub const USER_DEACTIVATED: EventType = EventType::new("user.deactivated");

/// The user loader every vertical's objects resolve users through, and the shared live
/// `events` subscription.
pub fn register(verticals: &mut Verticals) {
    verticals.loaders.push(schema::attach_loaders);
    verticals.share_subscription("events", Sharing::LiveOnly);
    verticals.announce(&[USER_DEACTIVATED]);
}
