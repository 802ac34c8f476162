//! Appending events inside a transaction, numbering them at its commit, reading them back.

use chrono::Utc;
use entity::tenant::event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::Value;
use uuid::Uuid;

use super::catalog::EventType;
use crate::{
    db::sql::Sql,
    error::{AppError, AppResult},
};

pub struct NewEvent {
    pub event_type: EventType,
    pub entity_id: Uuid,
    pub actor: Option<Uuid>,
    pub payload: Value,
}

/// Adds an event to the transaction; it gets its number when the transaction commits.
pub async fn append<C: ConnectionTrait>(conn: &C, new: NewEvent) -> AppResult<()> {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        seq: Set(None),
        event_type: Set(new.event_type.name().to_owned()),
        entity_type: Set(new.event_type.entity().to_owned()),
        entity_id: Set(new.entity_id),
        actor_id: Set(new.actor),
        payload: Set(new.payload),
        occurred_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Numbers the transaction's events; call it as the transaction's last statements. Bumping
/// the counter row locks it until commit, so a later transaction numbers after this one
/// commits (or reuses the numbers if this one rolls back): gapless, in commit order. A
/// transaction without events does not touch the counter. Returns the numbers used.
pub async fn number_pending<C: ConnectionTrait>(conn: &C) -> AppResult<Option<(i64, i64)>> {
    let pending = event::Entity::find()
        .filter(event::Column::Seq.is_null())
        .count(conn)
        .await?;
    if pending == 0 {
        return Ok(None);
    }
    let mut bump = Sql::on(conn);
    let text = format!(
        "UPDATE event_head SET last_seq = last_seq + {} WHERE id = 1 RETURNING last_seq",
        bump.bind(pending as i64)
    );
    let last: i64 = conn
        .query_one_raw(bump.statement(text))
        .await?
        .ok_or_else(|| AppError::internal("the event counter row is missing"))?
        .try_get("", "last_seq")?;
    let first = last - pending as i64 + 1;
    let mut number = Sql::on(conn);
    let text = format!(
        "UPDATE events SET seq = {} + r.rn - 1 FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn \
         FROM events WHERE seq IS NULL) AS r WHERE events.id = r.id",
        number.bind(first)
    );
    conn.execute_raw(number.statement(text)).await?;
    Ok(Some((first, last)))
}

/// Events after `after`, in order, at most `limit`, of the given types (all if empty).
pub async fn read_after<C: ConnectionTrait>(
    conn: &C,
    after: i64,
    types: &[String],
    limit: u64,
) -> AppResult<Vec<event::Model>> {
    let mut query = event::Entity::find().filter(event::Column::Seq.gt(after));
    if !types.is_empty() {
        query = query.filter(event::Column::EventType.is_in(types.iter().cloned()));
    }
    Ok(query
        .order_by_asc(event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The number of the latest committed event (0 before the first).
pub async fn head<C: ConnectionTrait>(conn: &C) -> AppResult<i64> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT last_seq FROM event_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| AppError::internal("the event counter row is missing"))?;
    Ok(row.try_get("", "last_seq")?)
}
