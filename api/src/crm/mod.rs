//! CRM: pipelines and their stages (contacts, companies, opportunities and activities
//! build on these).

pub(crate) mod loader;
pub(crate) mod schema;
pub(crate) mod service;
