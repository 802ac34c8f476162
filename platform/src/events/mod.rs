//! Events: the tenant's event log (an outbox in the tenant's own database). Every committed
//! change has its domain events, written in the same transaction; at commit they are
//! numbered from a one-row counter, so numbers are gapless in commit order and a reader
//! following the numbers never skips one. It never publishes what was not committed.

pub mod bus;
pub mod catalog;
pub mod follow;
pub mod log;
pub mod notify;
pub mod slots;
