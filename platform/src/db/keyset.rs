//! Keyset pagination on UUIDv7 ids (creation order) or a sort key then id, never OFFSET:
//! page requests, their cursors, and the query that fetches a page. The GraphQL
//! connection a page becomes is `graphql::pagination`'s.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// A position in a list: the row's id and, for lists not ordered by id, its sort key.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    #[serde(rename = "i")]
    pub id: Uuid,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<serde_json::Value>,
}

impl Cursor {
    pub fn id(id: Uuid) -> Self {
        Self { id, key: None }
    }

    pub fn keyed(id: Uuid, key: impl Into<serde_json::Value>) -> Self {
        Self {
            id,
            key: Some(key.into()),
        }
    }
}

/// A parsed page request: forward (`first`/`after`) or backward (`last`/`before`).
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
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

    /// Keeps the page's rows of those fetched with [`Self::fetch_limit`] in page order, and
    /// says whether pages come before and after it.
    pub fn trim<T>(&self, rows: &mut Vec<T>) -> (bool, bool) {
        let limit = self.limit as usize;
        let more = rows.len() > limit;
        if more {
            if self.backward {
                rows.drain(..rows.len() - limit);
            } else {
                rows.truncate(limit);
            }
        }
        if self.backward {
            (more, self.before.is_some())
        } else {
            (self.after.is_some(), more)
        }
    }

    pub fn after_id(&self) -> Option<Uuid> {
        self.after.as_ref().map(|c| c.id)
    }

    pub fn before_id(&self) -> Option<Uuid> {
        self.before.as_ref().map(|c| c.id)
    }
}

pub fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode_cursor(cursor: &str, field: &str) -> AppResult<Cursor> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input(field, "not a cursor returned by this API"))
}

/// The rows of one page of `select`, in page order: [`keyset`]'s query run, and a backward
/// page's rows (fetched in reverse) put back in order.
pub async fn fetch_page<E, C>(
    conn: &C,
    select: sea_orm::Select<E>,
    page: &PageRequest,
    key: SortKey<E::Column>,
    id: E::Column,
    descending: bool,
) -> AppResult<Vec<E::Model>>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    let mut rows = keyset(select, page, key, id, descending)?.all(conn).await?;
    if page.backward {
        rows.reverse();
    }
    Ok(rows)
}

/// How a keyset-paginated list is ordered: by id alone, or by a key column then id.
pub enum SortKey<C> {
    Id,
    Text(C),
    Timestamp(C),
}

/// Applies the page's cursors, order and limit to `select`: rows strictly after `after` and
/// strictly before `before` in the list's natural order, fetched in reverse for backward
/// pages (the caller reverses them back, see [`PageRequest::trim`]).
pub fn keyset<E>(
    mut select: sea_orm::Select<E>,
    page: &PageRequest,
    key: SortKey<E::Column>,
    id: E::Column,
    descending: bool,
) -> AppResult<sea_orm::Select<E>>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect, sea_query::Order};

    let key_column = match &key {
        SortKey::Id => None,
        SortKey::Text(c) | SortKey::Timestamp(c) => Some(*c),
    };
    let key_value = |cursor: &Cursor, field: &str| -> AppResult<sea_orm::Value> {
        let bad = || AppError::bad_input(field, "this cursor belongs to another ordering");
        let raw = cursor
            .key
            .as_ref()
            .and_then(|k| k.as_str())
            .ok_or_else(bad)?;
        Ok(match key {
            SortKey::Timestamp(_) => chrono::DateTime::parse_from_rfc3339(raw)
                .map_err(|_| bad())?
                .with_timezone(&chrono::Utc)
                .into(),
            _ => raw.to_owned().into(),
        })
    };
    // `later` = comes after the cursor in the natural order.
    let bound = |cursor: &Cursor, later: bool, field: &str| -> AppResult<Condition> {
        let greater = later != descending;
        let id_cmp = if greater {
            id.gt(cursor.id)
        } else {
            id.lt(cursor.id)
        };
        Ok(match key_column {
            None => Condition::all().add(id_cmp),
            Some(column) => {
                let value = key_value(cursor, field)?;
                let key_cmp = if greater {
                    column.gt(value.clone())
                } else {
                    column.lt(value.clone())
                };
                Condition::any()
                    .add(key_cmp)
                    .add(Condition::all().add(column.eq(value)).add(id_cmp))
            }
        })
    };
    if let Some(after) = &page.after {
        select = select.filter(bound(after, true, "after")?);
    }
    if let Some(before) = &page.before {
        select = select.filter(bound(before, false, "before")?);
    }
    let order = if descending != page.backward {
        Order::Desc
    } else {
        Order::Asc
    };
    if let Some(column) = key_column {
        select = select.order_by(column, order.clone());
    }
    Ok(select.order_by(id, order).limit(page.fetch_limit()))
}
