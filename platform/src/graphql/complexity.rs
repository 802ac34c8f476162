//! What a field's subtree costs, for the complexity limit: a list multiplies what each of
//! its items costs by how many there can be, so that nested lists (a contact's
//! opportunities' contacts' opportunities...) are refused before they run instead of
//! answering a million nodes. Used in `#[graphql(complexity = ...)]` attributes.

use super::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// What a list whose size the request does not bound (a pipeline's stages, the tenant's
/// pipelines) is assumed to hold.
pub const UNBOUNDED_LIST: usize = 10;

/// A list of at most `first` items. A size the resolver refuses (above the page limit)
/// counts as the largest it takes, so that it is refused as bad input, not as too complex.
pub fn list(first: i32, child_complexity: usize) -> usize {
    up_to(first, MAX_PAGE_SIZE as usize, child_complexity)
}

/// A list of at most `first` items, of at most `max`.
pub fn up_to(first: i32, max: usize, child_complexity: usize) -> usize {
    let size = usize::try_from(first).unwrap_or(0).clamp(1, max);
    items(size, child_complexity)
}

/// A connection page: `first` or `last` items, the default page size without either.
pub fn page(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    list(
        first.or(last).unwrap_or(DEFAULT_PAGE_SIZE as i32),
        child_complexity,
    )
}

/// A list the request does not bound.
pub fn unbounded(child_complexity: usize) -> usize {
    items(UNBOUNDED_LIST, child_complexity)
}

fn items(size: usize, child_complexity: usize) -> usize {
    size.saturating_mul(child_complexity.max(1))
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_multiply_their_items() {
        assert_eq!(list(100, 2), 201);
        assert_eq!(list(100, list(100, list(100, 2))), 2_010_101);
        assert_eq!(
            list(5_000, 2),
            201,
            "an invalid size counts as the largest page"
        );
        assert_eq!(list(-3, 2), 3);
        assert_eq!(page(None, None, 3), 61);
        assert_eq!(page(None, Some(5), 3), 16);
        assert_eq!(unbounded(0), 11);
        assert_eq!(list(100, usize::MAX), usize::MAX);
    }
}
