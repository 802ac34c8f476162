//! Database helpers every vertical shares: keyset pagination, and SQL written once for both
//! backends.

pub mod filter;
pub mod keyset;
pub mod sql;

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The row of `E` whose id is `id`, or `NOT_FOUND` naming `what`. Another tenant's id is
/// not found either: each tenant's rows live apart.
pub async fn find_by_id<E, C>(conn: &C, id: Uuid, what: &'static str) -> AppResult<E::Model>
where
    E: EntityTrait,
    Uuid: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound(what))
}
