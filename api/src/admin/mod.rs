//! Platform administration: platform admins, provisioning, suspending and deleting tenants,
//! custom domains. Served only on `admin.<base domain>` and by the CLI.

pub(crate) mod schema;
pub mod service;
