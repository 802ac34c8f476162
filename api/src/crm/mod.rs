//! CRM: contacts, companies, pipelines with stages, opportunities, activities, the figures
//! sales teams ask for, and the audit trail with history and revert.

pub(crate) mod loader;
pub mod schema;
pub mod service;
pub mod types;
