//! The pieces of a list's filter every vertical writes: each gives `None` (no condition)
//! when the filter leaves it out, for `Condition::add_option`.

use sea_orm::{
    ColumnTrait, Condition, Value,
    sea_query::{Expr, ExprTrait, LikeExpr, SimpleExpr},
};

/// `expr` contains `search` (lowercased, `%`, `_` and `\` escaped), when the search is not
/// blank. `expr` is lowercase already (a search key) or lowered by the caller.
pub fn contains(expr: impl Into<SimpleExpr>, search: Option<&str>) -> Option<SimpleExpr> {
    let search = search.map(str::trim).filter(|s| !s.is_empty())?;
    Some(Expr::expr(expr).like(LikeExpr::new(like_pattern(search)).escape('\\')))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern, lowercased.
pub fn like_pattern(search: &str) -> String {
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

/// `column = value`, when a value is given.
pub fn equals<V: Into<Value>>(column: impl ColumnTrait, value: Option<V>) -> Option<SimpleExpr> {
    value.map(|v| column.eq(v))
}

/// `column` is one of `values` (stored names), when any are given.
pub fn one_of<V: Into<Value>>(
    column: impl ColumnTrait,
    values: impl IntoIterator<Item = V>,
) -> Option<SimpleExpr> {
    let values: Vec<V> = values.into_iter().collect();
    (!values.is_empty()).then(|| column.is_in(values))
}

/// `from <= column < to`, each bound when given.
pub fn between<V: Into<Value>>(
    column: impl ColumnTrait,
    from: Option<V>,
    to: Option<V>,
) -> Option<Condition> {
    if from.is_none() && to.is_none() {
        return None;
    }
    Some(
        Condition::all()
            .add_option(from.map(|v| column.gte(v)))
            .add_option(to.map(|v| column.lt(v))),
    )
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" 50%_Off\\ "), "%50\\%\\_off\\\\%");
    }
}
