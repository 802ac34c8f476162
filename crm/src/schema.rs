//! CRM GraphQL types and resolvers; thin: parse input, call the service, map the result.

mod inputs;
mod mutation;
mod objects;
mod query;
mod subscription;

pub use mutation::CrmMutation;
pub use query::CrmQuery;
pub use subscription::check_pipeline;
pub use subscription::{BoardSnapshot, BoardSnapshots, CrmSubscription};
