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

    /// `column` (a date) as its month, `YYYY-MM` text. `column` is the caller's constant.
    pub fn month_of(&self, column: &str) -> String {
        if self.is_postgres() {
            format!("to_char({column}, 'YYYY-MM')")
        } else {
            // SQLite keeps dates as `YYYY-MM-DD` text.
            format!("substr({column}, 1, 7)")
        }
    }

    /// Days from the timestamp `from` to the timestamp `to`, fractional.
    pub fn days_between(&self, from: &str, to: &str) -> String {
        if self.is_postgres() {
            format!("(EXTRACT(EPOCH FROM ({to} - {from})) / 86400.0)")
        } else {
            format!("(julianday({to}) - julianday({from}))")
        }
    }

    /// Whole days from the date `column` to `day` (bound here): positive once `day` is later.
    pub fn days_until(&mut self, column: &str, day: chrono::NaiveDate) -> String {
        if self.is_postgres() {
            let day = self.bind_as(day, "date");
            format!("({day} - {column})")
        } else {
            let day = self.bind(day);
            format!("CAST(julianday({day}) - julianday({column}) AS INTEGER)")
        }
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
/// ordered by `order` (in terms of the alias `x`) within each parent, whole (`SELECT *`,
/// on SQLite with an extra `parent_rank` column). See [`FirstPerParent`].
pub fn first_per_parent(
    backend: DbBackend,
    table: &str,
    parent_column: &str,
    order: &str,
    parents: &[Uuid],
    limit: u64,
) -> Statement {
    let keys: Vec<Vec<Value>> = parents.iter().map(|id| vec![(*id).into()]).collect();
    FirstPerParent {
        table,
        key_columns: &[(parent_column, "uuid")],
        order,
        columns: "x.*",
        alias: "t",
    }
    .statement(Sql::new(backend), &keys, limit, |rows| {
        format!("SELECT t.* FROM {rows}")
    })
}

/// The first rows of a table per parent, in one statement: every "first N per parent" read
/// (a board's columns, each company's first contacts, each deal's latest activity) is built
/// here. On PostgreSQL a `LATERAL ... LIMIT` per key over a `VALUES` list, which walks an
/// index per parent and stops at N; on SQLite, which has no `LATERAL`, a window function
/// over the rows of the keys. Names are the caller's constants, never input.
pub struct FirstPerParent<'a> {
    /// The table, aliased `x` in `order` and `columns`.
    pub table: &'a str,
    /// The columns a key matches, with their PostgreSQL types; the first is the parent's
    /// (`[("stage_id", "uuid"), ("status", "text")]`: each stage's deals of its status).
    pub key_columns: &'a [(&'a str, &'a str)],
    /// The order within a parent, in terms of `x`.
    pub order: &'a str,
    /// What each row selects, in terms of `x` (`x.*`, or a model's column list).
    pub columns: &'a str,
    /// The rows' alias in the statement around them.
    pub alias: &'a str,
}

impl FirstPerParent<'_> {
    /// The statement for `keys` (each with a value per key column): `outer` gets the rows'
    /// source (aliased `alias`, to follow `FROM`) and returns the statement around it (its
    /// columns and joins, no `WHERE` and no values of its own).
    pub fn statement(
        &self,
        mut sql: Sql,
        keys: &[Vec<Value>],
        limit: u64,
        outer: impl FnOnce(&str) -> String,
    ) -> Statement {
        let Self {
            table,
            key_columns,
            order,
            columns,
            alias,
        } = self;
        let names = key_columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ");
        let matches = key_columns
            .iter()
            .map(|(name, _)| format!("x.{name} = k.{name}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let postgres = sql.is_postgres();
        let rows = keys
            .iter()
            .map(|key| {
                let values = key
                    .iter()
                    .zip(key_columns.iter())
                    .map(|(value, (_, kind))| sql.bind_as(value.clone(), kind))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({values})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let text = if postgres {
            let source = format!(
                "(VALUES {rows}) AS k({names}) CROSS JOIN LATERAL (SELECT {columns} FROM {table} x \
                 WHERE {matches} ORDER BY {order} LIMIT {}) {alias}",
                sql.bind(limit as i64)
            );
            outer(&source)
        } else {
            let parent = key_columns.first().map_or("id", |(name, _)| *name);
            let source = format!(
                "(SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY x.{parent} ORDER BY {order}) \
                 AS parent_rank FROM {table} x JOIN k ON {matches}) {alias}"
            );
            format!(
                "WITH k({names}) AS (VALUES {rows}) {} WHERE {alias}.parent_rank <= {}",
                outer(&source),
                sql.bind(limit as i64)
            )
        };
        sql.statement(text)
    }
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
