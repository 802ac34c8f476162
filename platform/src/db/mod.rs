//! Database helpers every vertical shares: keyset pagination, and SQL written once for both
//! backends.

pub mod keyset;
pub mod sql;
