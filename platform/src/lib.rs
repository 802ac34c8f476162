//! Nexo's platform layer: what every vertical (CRM, dashboards, identity, administration,
//! and those to come) builds on and none owns. See `ARCHITECTURE.md`.

pub mod config;
pub mod domain;
pub mod error;
pub mod private_fs;
pub mod telemetry;

pub use config::Config;
