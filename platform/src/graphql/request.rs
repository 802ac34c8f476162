//! Checks on a request before it executes (list sizes, operation kind, aliases), and the
//! final touch on every response: each error carries an `extensions.code`.

use async_graphql::{
    Positioned, Request, Response, ServerError,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
        SelectionSet,
    },
};

use async_graphql_value::{ConstValue, Value};

use crate::error::AppError;

/// What the handler needs to know of an operation before running it.
#[derive(Clone, Copy, Debug)]
pub struct OperationInfo {
    pub kind: OperationType,
    /// Top-level fields of a mutation (each runs in its own savepoint when more than one).
    pub mutation_fields: usize,
    /// Whether the operation asks for `__schema` or `__type`.
    pub introspection: bool,
}

/// The operation a request names (or its only one); `None` when it cannot be picked.
pub fn selected_operation<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

/// Finds the operation to run and checks the alias limit. An operation that cannot be
/// picked (ambiguous or unknown name) is reported by the executor itself; here it counts as
/// a query.
pub fn analyze_operation(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    max_aliases: usize,
) -> Result<OperationInfo, AppError> {
    let aliases: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|f| count_aliases(&f.node.selection_set.node)),
        )
        .sum();
    if aliases > max_aliases {
        return Err(AppError::QueryTooComplex(format!(
            "the request has {aliases} aliases; at most {max_aliases} are allowed"
        )));
    }
    Ok(match selected_operation(doc, operation_name) {
        Some(op) => OperationInfo {
            introspection: op.node.selection_set.node.items.iter().any(|item| {
                matches!(&item.node, Selection::Field(field)
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type"))
            }),
            kind: op.node.ty,
            mutation_fields: if op.node.ty == OperationType::Mutation {
                op.node.selection_set.node.items.len()
            } else {
                0
            },
        },
        None => OperationInfo {
            kind: OperationType::Query,
            mutation_fields: 0,
            introspection: false,
        },
    })
}

/// Refuses a list longer than `max_items` anywhere in the request's variables, before
/// anything walks them: validating and coercing a list costs time in proportion to its
/// length, and no input of the API takes more than a few dozen items.
pub fn check_variable_lists(request: &Request, max_items: usize) -> Result<(), AppError> {
    for (name, value) in request.variables.iter() {
        check_const_value(value, max_items, &mut || format!("${name}"))?;
    }
    Ok(())
}

/// The same for lists written in the query text, once it is parsed.
pub fn check_literal_lists(doc: &ExecutableDocument, max_items: usize) -> Result<(), AppError> {
    doc.operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(doc.fragments.values().map(|f| &f.node.selection_set.node))
        .try_for_each(|set| check_selection_lists(set, max_items))
}

fn check_selection_lists(set: &SelectionSet, max_items: usize) -> Result<(), AppError> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    check_value(&value.node, max_items, &mut || {
                        format!("{}.{}", field.node.name.node, name.node)
                    })?;
                }
                check_selection_lists(&field.node.selection_set.node, max_items)?;
            }
            Selection::InlineFragment(fragment) => {
                check_selection_lists(&fragment.node.selection_set.node, max_items)?
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn too_many(len: usize, max_items: usize, path: &mut dyn FnMut() -> String) -> AppError {
    let field = path();
    AppError::BadUserInput {
        message: format!("{field} is a list of {len} items; at most {max_items} are allowed"),
        field,
    }
}

fn check_const_value(
    value: &ConstValue,
    max_items: usize,
    path: &mut dyn FnMut() -> String,
) -> Result<(), AppError> {
    match value {
        ConstValue::List(items) if items.len() > max_items => {
            Err(too_many(items.len(), max_items, path))
        }
        ConstValue::List(items) => items
            .iter()
            .try_for_each(|item| check_const_value(item, max_items, path)),
        ConstValue::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            check_const_value(item, max_items, &mut || format!("{}.{key}", path()))
        }),
        _ => Ok(()),
    }
}

fn check_value(
    value: &Value,
    max_items: usize,
    path: &mut dyn FnMut() -> String,
) -> Result<(), AppError> {
    match value {
        Value::List(items) if items.len() > max_items => {
            Err(too_many(items.len(), max_items, path))
        }
        Value::List(items) => items
            .iter()
            .try_for_each(|item| check_value(item, max_items, path)),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            check_value(item, max_items, &mut || format!("{}.{key}", path()))
        }),
        _ => Ok(()),
    }
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Gives every error without a code one: limit refusals become `QUERY_TOO_COMPLEX`, other
/// errors outside resolvers `GRAPHQL_VALIDATION_FAILED`, input coercion errors inside them
/// `BAD_USER_INPUT`.
pub fn finalize_response(response: &mut Response) {
    for error in &mut response.errors {
        if has_code(error) {
            continue;
        }
        let code = if error.message.starts_with("Query is too complex")
            || error.message.starts_with("Query is nested too deep")
        {
            "QUERY_TOO_COMPLEX"
        } else if error.path.is_empty() {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "BAD_USER_INPUT"
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some())
}
