//! One tenant's tables: its own schema on PostgreSQL, its own file on SQLite.

pub mod activity;
pub mod audit_entry;
pub mod company;
pub mod contact;
pub mod contact_tag;
pub mod document_line;
pub mod document_series;
pub mod event;
pub mod file;
pub mod job;
pub mod opportunity;
pub mod pipeline;
pub mod pipeline_stage;
pub mod product;
pub mod product_component;
pub mod quote;
pub mod refresh_token;
pub mod sales_setting;
pub mod stage_change;
pub mod tax_rate;
pub mod tenant_identity;
pub mod user;
pub mod user_token;
