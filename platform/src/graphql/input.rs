//! Reading GraphQL inputs every vertical shares: ids, patches, text and list limits. Each
//! refusal is `BAD_USER_INPUT` naming the field.

use async_graphql::{ID, MaybeUndefined};
use uuid::Uuid;

use crate::{
    domain::Patch,
    error::{AppError, AppResult},
    parse_id,
};

/// The most items an edge (a list under an object) returns.
pub const MAX_EDGE_ITEMS: i32 = 100;

pub fn opt_id(id: Option<&ID>, field: &str) -> AppResult<Option<Uuid>> {
    id.map(|id| parse_id(id, field)).transpose()
}

pub fn patch_id(value: MaybeUndefined<ID>, field: &str) -> AppResult<Patch<Uuid>> {
    Patch::from_graphql(value).try_map(|id| parse_id(&id, field))
}

/// An optional text field's patch: blank clears it.
pub fn patch_text(
    value: MaybeUndefined<String>,
    field: &str,
    max: usize,
) -> AppResult<Patch<String>> {
    Ok(match Patch::from_graphql(value) {
        Patch::Set(text) => match optional_text(Some(&text), field, max)? {
            Some(text) => Patch::Set(text),
            None => Patch::Clear,
        },
        Patch::Clear => Patch::Clear,
        Patch::Keep => Patch::Keep,
    })
}

/// An edge's `first`, from 0 to [`MAX_EDGE_ITEMS`].
pub fn edge_limit(first: i32) -> AppResult<u64> {
    if !(0..=MAX_EDGE_ITEMS).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("first is between 0 and {MAX_EDGE_ITEMS}"),
        ));
    }
    Ok(first as u64)
}

/// Trims a required text input; empty or longer than `max` characters is `BAD_USER_INPUT`.
pub fn required_text(raw: &str, field: &str, max: usize) -> AppResult<String> {
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
pub fn optional_text(raw: Option<&str>, field: &str, max: usize) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => required_text(text, field, max).map(Some),
    }
}
