//! CRM rules. Every function works inside the caller's tenant transaction, takes parsed
//! inputs, checks references (an unknown or other-tenant id is `NOT_FOUND`), and records
//! each change in the audit trail.

pub mod activities;
pub mod audit;
pub mod companies;
pub mod contacts;
pub mod figures;
pub mod opportunities;
pub mod pipelines;

use entity::tenant::{company, contact, opportunity, user};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use platform::error::{AppError, AppResult};

/// A field of an update: left as is, cleared, or set.
#[derive(Clone, Debug, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn from_graphql(value: async_graphql::MaybeUndefined<T>) -> Self {
        match value {
            async_graphql::MaybeUndefined::Undefined => Self::Keep,
            async_graphql::MaybeUndefined::Null => Self::Clear,
            async_graphql::MaybeUndefined::Value(v) => Self::Set(v),
        }
    }

    /// Maps a set value through a parser.
    pub fn try_map<U>(self, parse: impl FnOnce(T) -> AppResult<U>) -> AppResult<Patch<U>> {
        Ok(match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(v) => Patch::Set(parse(v)?),
        })
    }

    /// The new value for a nullable column, given its current one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(v) => Some(v),
        }
    }
}

pub(crate) async fn ensure_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound("user"))
}

pub(crate) async fn ensure_company<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    company::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound("company"))
}

pub(crate) async fn find_contact<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<contact::Model> {
    contact::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("contact"))
}

pub(crate) async fn find_opportunity<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<opportunity::Model> {
    opportunity::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("opportunity"))
}

/// Trims a required text input; empty or longer than `max` characters is `BAD_USER_INPUT`.
pub(crate) fn required_text(raw: &str, field: &str, max: usize) -> AppResult<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("{field} cannot be empty"),
        ));
    }
    if text.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} has at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Trims an optional text input; blank becomes `None`.
pub(crate) fn optional_text(
    raw: Option<&str>,
    field: &str,
    max: usize,
) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => required_text(text, field, max).map(Some),
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern, lowercased.
pub(crate) fn like_pattern(search: &str) -> String {
    let mut escaped = String::with_capacity(search.len() + 2);
    escaped.push('%');
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}
