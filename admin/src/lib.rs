//! Platform administration: platform admins, provisioning, suspending and deleting tenants,
//! custom domains. Served only on `admin.<base domain>` and by the CLI.

pub mod schema;
pub mod service;
