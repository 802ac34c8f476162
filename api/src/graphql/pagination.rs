//! Relay cursor connections with keyset cursors on UUIDv7 ids (creation order), never
//! OFFSET. Page size defaults to 20, at most 100.

use async_graphql::{
    SimpleObject,
    connection::{Connection, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Extra fields on every connection.
#[derive(SimpleObject, Default)]
pub struct ConnectionTotals {
    /// How many items match, across all pages.
    pub total_count: i64,
}

pub type Page<N> = Connection<String, N, ConnectionTotals>;

/// A parsed page request: forward (`first`/`after`) or backward (`last`/`before`).
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
    pub backward: bool,
}

impl PageRequest {
    pub fn parse(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Self> {
        if first.is_some() && last.is_some() {
            return Err(AppError::bad_input("last", "give first or last, not both"));
        }
        let (size, field) = match (first, last) {
            (_, Some(last)) => (Some(last), "last"),
            (first, None) => (first, "first"),
        };
        let limit = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => {
                return Err(AppError::bad_input(
                    field,
                    format!("{field} cannot be negative"),
                ));
            }
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(AppError::bad_input(
                    field,
                    format!("{field} can be at most {MAX_PAGE_SIZE}"),
                ));
            }
            Some(n) => n as u64,
        };
        Ok(Self {
            limit,
            after: after
                .as_deref()
                .map(|c| decode_cursor(c, "after"))
                .transpose()?,
            before: before
                .as_deref()
                .map(|c| decode_cursor(c, "before"))
                .transpose()?,
            backward: last.is_some(),
        })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }

    /// Builds the connection from rows fetched with [`Self::fetch_limit`] in page order.
    pub fn into_connection<T, N>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> Uuid,
        node_of: impl Fn(T) -> AppResult<N>,
        total_count: i64,
    ) -> AppResult<Page<N>>
    where
        N: async_graphql::OutputType,
    {
        let limit = self.limit as usize;
        let more = rows.len() > limit;
        if more {
            if self.backward {
                rows.drain(..rows.len() - limit);
            } else {
                rows.truncate(limit);
            }
        }
        let (has_previous, has_next) = if self.backward {
            (more, self.before.is_some())
        } else {
            (self.after.is_some(), more)
        };
        let mut connection = Connection::with_additional_fields(
            has_previous,
            has_next,
            ConnectionTotals { total_count },
        );
        for row in rows {
            let cursor = encode_cursor(id_of(&row));
            connection.edges.push(Edge::new(cursor, node_of(row)?));
        }
        Ok(connection)
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str, field: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input(field, "not a cursor returned by this API"))
}

/// Whether the client selected `totalCount`, so the count query runs only when asked for.
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}
