//! One tenant's tables: its own schema on PostgreSQL, its own file on SQLite.

pub mod pipeline;
pub mod pipeline_stage;
pub mod refresh_token;
pub mod user;
pub mod user_token;
