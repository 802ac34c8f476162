//! What the CRM's entities share: update patches, reference checks, text rules, and the GraphQL
//! helpers every object uses.

use std::collections::HashMap;

use async_graphql::{Enum, InputObject, Lookahead};
use entity::{
    positioned::{ColumnMask, Positioned},
    tenant::{company, contact, opportunity, user},
};
pub(crate) use identity::schema::user;
use platform::{db::find_by_id, db::sql::first_per_parent, domain::Money, error::AppResult};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

pub use platform::domain::Patch;
pub(crate) use platform::{
    graphql::input::{edge_limit, opt_id, optional_text, patch_id, patch_text, required_text},
    id,
};

/// The first n rows of `table` per parent id (in creation order), one statement per
/// distinct n. `table` and `parent` are names from this module, never input.
pub(crate) async fn first_of_each<E, C>(
    conn: &C,
    table: &str,
    parent: &str,
    keys: &[(Uuid, u64)],
    parent_of: impl Fn(&E::Model) -> Option<Uuid>,
) -> AppResult<HashMap<(Uuid, u64), Vec<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut by_limit: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (id, limit) in keys {
        by_limit.entry(*limit).or_default().push(*id);
    }
    let backend = conn.get_database_backend();
    let mut loaded: HashMap<(Uuid, u64), Vec<E::Model>> = HashMap::new();
    for (limit, ids) in by_limit {
        let statement = first_per_parent(backend, table, parent, "x.id", &ids, limit);
        let rows = E::find().from_raw_sql(statement).all(conn).await?;
        for id in &ids {
            loaded.entry((*id, limit)).or_default();
        }
        for row in rows {
            if let Some(parent) = parent_of(&row) {
                loaded.entry((parent, limit)).or_default().push(row);
            }
        }
    }
    Ok(loaded)
}

#[derive(InputObject)]
pub struct MoneyInput {
    /// Major units, as a decimal string (`"1234.50"`) or number.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

impl MoneyInput {
    pub fn parse(&self, field: &str) -> AppResult<Money> {
        Money::parse(self.amount, &self.currency, field)
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// The columns of `M` that the fields selected under `field` read: `always`, then for each
/// field its columns in `reads`. A field `reads` does not name reads every column, so a
/// field added without its entry costs speed, never a wrong answer.
pub(crate) fn columns_read<M: Positioned>(
    field: &Lookahead<'_>,
    always: &[&str],
    reads: &[(&str, &[&str])],
) -> ColumnMask {
    let mut mask = ColumnMask::key().with::<M>(always);
    for selection in field.selection_fields() {
        for selected in selection.selection_set() {
            if selected.name() == "__typename" {
                continue;
            }
            mask = match reads.iter().find(|(name, _)| *name == selected.name()) {
                Some((_, columns)) => mask.with::<M>(columns),
                None => ColumnMask::ALL,
            };
        }
    }
    mask
}

pub(crate) async fn ensure_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    find_by_id::<user::Entity, _>(conn, id, "user")
        .await
        .map(|_| ())
}

pub(crate) async fn ensure_company<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    find_by_id::<company::Entity, _>(conn, id, "company")
        .await
        .map(|_| ())
}

pub(crate) async fn find_contact<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<contact::Model> {
    find_by_id::<contact::Entity, _>(conn, id, "contact").await
}

pub(crate) async fn find_opportunity<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<opportunity::Model> {
    find_by_id::<opportunity::Entity, _>(conn, id, "opportunity").await
}

#[cfg(test)]
mod tests {
    use entity::{
        positioned::Positioned,
        tenant::{activity, company, contact, user},
    };
    use identity::schema::UserNode;

    use crate::{
        activities::schema::ActivityNode, companies::schema::CompanyNode,
        contacts::schema::ContactNode,
    };

    fn names_its_columns<M: Positioned>(reads: &[(&str, &[&str])]) {
        for (field, columns) in reads {
            for column in *columns {
                assert!(
                    M::COLUMNS.contains(column),
                    "{field} reads unknown {column}"
                );
            }
        }
    }

    /// A misspelt column would not break an answer (it reads every column), only slow it.
    #[test]
    fn every_read_names_a_column() {
        names_its_columns::<contact::Model>(ContactNode::READS);
        names_its_columns::<company::Model>(CompanyNode::READS);
        names_its_columns::<user::Model>(UserNode::READS);
        names_its_columns::<user::Model>(&[("", UserNode::ALWAYS_READS)]);
        names_its_columns::<activity::Model>(ActivityNode::READS);
    }
}
