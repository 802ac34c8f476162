//! Nexo's integration suite: every test starts the real server and talks HTTP to it, on
//! SQLite, and on PostgreSQL when `NEXO_TEST_DATABASE_URL` is set.

mod abuse;
mod access;
mod audit;
mod auth;
mod baseline;
mod crm_contacts;
mod crm_pipeline;
mod dashboard;
mod events;
mod files;
mod job_workers;
mod jobs;
mod limits;
mod metrics;
mod outbound;
mod sales;
mod seed;
mod subscriptions;
mod tenancy;
