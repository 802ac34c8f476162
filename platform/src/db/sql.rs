//! SQL written once for both backends. Placeholders come from binding values in order, in
//! each backend's own form (`$n` on PostgreSQL, `?` on SQLite), and the "first N rows per
//! parent" statement is built in one place.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::error::AppResult;

/// A statement's values, bound in the order their placeholders appear in its text.
pub struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// For a statement on `conn`'s backend.
    pub fn on<C: ConnectionTrait>(conn: &C) -> Self {
        Self::new(conn.get_database_backend())
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// Binds `value`; its placeholder.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    /// Binds `value` with its type spelled out for PostgreSQL (a `VALUES` list needs it):
    /// `$n::uuid` there, `?` on SQLite.
    pub fn bind_as(&mut self, value: impl Into<Value>, postgres_type: &str) -> String {
        let placeholder = self.bind(value);
        if self.is_postgres() {
            format!("{placeholder}::{postgres_type}")
        } else {
            placeholder
        }
    }

    /// Binds each value; their placeholders, comma-separated (for `IN (...)`).
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> String {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The statement of `sql`, whose placeholders came from this binder.
    pub fn statement(self, sql: impl Into<String>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Locks the row of `table` whose id is `id` until the transaction ends, serialising the
/// transactions that change what hangs off it. PostgreSQL only: SQLite serialises writers
/// with its database lock already. `table` is the caller's constant, never input.
pub async fn lock_row<C: ConnectionTrait>(conn: &C, table: &str, id: Uuid) -> AppResult<()> {
    let mut sql = Sql::on(conn);
    if sql.is_postgres() {
        let text = format!(
            "SELECT id FROM {table} WHERE id = {} FOR UPDATE",
            sql.bind(id)
        );
        conn.execute_raw(sql.statement(text)).await?;
    }
    Ok(())
}

/// The first `limit` rows of `table` for each id in `parents` (matched on `parent_column`),
/// ordered by `order` (in terms of the alias `x`) within each parent, in one statement:
/// `LATERAL ... LIMIT` over a `VALUES` list on PostgreSQL, a window function on SQLite.
/// The rows come whole (`SELECT *`, on SQLite with an extra `parent_rank` column). `table`,
/// `parent_column` and `order` are the caller's constants, never input.
pub fn first_per_parent(
    backend: DbBackend,
    table: &str,
    parent_column: &str,
    order: &str,
    parents: &[Uuid],
    limit: u64,
) -> Statement {
    let mut sql = Sql::new(backend);
    let text = if sql.is_postgres() {
        let keys = parents
            .iter()
            .map(|id| format!("({})", sql.bind_as(*id, "uuid")))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT t.* FROM (VALUES {keys}) AS k(parent) CROSS JOIN LATERAL \
             (SELECT * FROM {table} x WHERE x.{parent_column} = k.parent ORDER BY {order} \
             LIMIT {}) t",
            sql.bind(limit as i64)
        )
    } else {
        let keys = sql.bind_list(parents.iter().copied());
        format!(
            "SELECT * FROM (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.{parent_column} \
             ORDER BY {order}) AS parent_rank FROM {table} x WHERE x.{parent_column} IN ({keys})) \
             WHERE parent_rank <= {}",
            sql.bind(limit as i64)
        )
    };
    sql.statement(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend_and_the_binding_order() {
        let mut pg = Sql::new(DbBackend::Postgres);
        assert_eq!(pg.bind(1), "$1");
        assert_eq!(pg.bind_as(Uuid::nil(), "uuid"), "$2::uuid");
        assert_eq!(pg.bind_list([3, 4]), "$3, $4");
        let mut lite = Sql::new(DbBackend::Sqlite);
        assert_eq!(lite.bind(1), "?");
        assert_eq!(lite.bind_as(Uuid::nil(), "uuid"), "?");
        assert_eq!(lite.bind_list([3, 4]), "?, ?");
        assert_eq!(
            lite.statement("SELECT 1").values.map(|v| v.0.len()),
            Some(4)
        );
    }
}
