//! SeaORM entities: persistence only. [`control`] holds the platform's tables (the tenant
//! registry and platform admins), [`tenant`] one tenant's tables. No GraphQL derives live
//! here: API types are built from these models in the `api` crate, so a column (a password
//! hash) never reaches the contract by accident. This crate knows nothing of `api`.

pub mod control;
pub mod positioned;
pub mod tenant;
