//! Database helpers every vertical shares.

pub mod keyset;
