//! Relay cursor connections over keyset pages ([`crate::db::keyset`]). Page size defaults
//! to 20, at most 100.

use async_graphql::{
    SimpleObject,
    connection::{Connection, Edge},
};

pub use crate::db::keyset::{
    Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, SortKey, encode_cursor, fetch_page,
    keyset,
};
use crate::error::AppResult;

/// Extra fields on every connection.
#[derive(SimpleObject, Default)]
pub struct ConnectionTotals {
    /// How many items match, across all pages.
    pub total_count: i64,
}

pub type Page<N> = Connection<String, N, ConnectionTotals>;

/// A page request's rows as a connection.
pub trait PageConnection {
    /// Builds the connection from rows fetched with [`PageRequest::fetch_limit`] in page
    /// order.
    fn connection<T, N>(
        &self,
        rows: Vec<T>,
        cursor_of: impl Fn(&T) -> Cursor,
        node_of: impl Fn(T) -> AppResult<N>,
        total_count: i64,
    ) -> AppResult<Page<N>>
    where
        N: async_graphql::OutputType;
}

impl PageConnection for PageRequest {
    fn connection<T, N>(
        &self,
        mut rows: Vec<T>,
        cursor_of: impl Fn(&T) -> Cursor,
        node_of: impl Fn(T) -> AppResult<N>,
        total_count: i64,
    ) -> AppResult<Page<N>>
    where
        N: async_graphql::OutputType,
    {
        let (has_previous, has_next) = self.trim(&mut rows);
        let mut connection = Connection::with_additional_fields(
            has_previous,
            has_next,
            ConnectionTotals { total_count },
        );
        for row in rows {
            let cursor = encode_cursor(&cursor_of(&row));
            connection.edges.push(Edge::new(cursor, node_of(row)?));
        }
        Ok(connection)
    }
}

/// Whether the client selected `totalCount`, so the count query runs only when asked for.
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// A connection's `totalCount`: `count` runs only when the selection asks for it (0 when it
/// does not).
pub async fn total_if_asked(
    ctx: &async_graphql::Context<'_>,
    count: impl Future<Output = AppResult<u64>>,
) -> AppResult<i64> {
    Ok(if wants_total(ctx) {
        count.await? as i64
    } else {
        0
    })
}
