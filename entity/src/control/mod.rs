//! Control-plane tables: the `nexo` schema on PostgreSQL, `control.db` on SQLite.

pub mod access_change;
pub mod admin_setup_token;
pub mod platform_admin;
pub mod tenant;
pub mod tenant_domain;
pub mod tenant_due_work;
