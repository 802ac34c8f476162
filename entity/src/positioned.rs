//! Models decoded from a joined row by position: every vertical's hand-written joins read
//! their models this way.
//!
//! A row that joins several tables names its columns `prefix + column`; decoded by name,
//! every value costs a formatted name, a lookup, and for each NULL a formatted message
//! (about a third of the board's server time, 70 columns x 240 cards). Decoded by position
//! it costs none of these. Each model's column list and its decoding come from one list of
//! fields, so the SELECT and the decoding cannot disagree, and the struct literal makes the
//! compiler reject a list that misses or repeats a field.
//!
//! A statement may also select only some of a model's columns (a `ColumnMask`, from what a
//! GraphQL selection reads): the others take their type's default. Such a model is for
//! answering that selection only. The board's cards select this way: decoding and sending
//! 62 columns per card where the card showed 12 cost PostgreSQL a third of its time on the
//! board and the server a fifth of its own.
//!
//! A model's list lives here, beside its entity, because Rust lets only the crate that
//! defines a model or the trait implement one for the other.

use crate::tenant::{activity, company, contact, opportunity, pipeline, pipeline_stage, user};
use sea_orm::{DbErr, QueryResult, TryGetable};
use uuid::Uuid;

/// Which of a model's columns a statement selects: bit i stands for `COLUMNS[i]`. The
/// primary key is always selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ColumnMask(u64);

impl ColumnMask {
    pub const ALL: ColumnMask = ColumnMask(u64::MAX);

    /// The primary key alone.
    pub fn key() -> Self {
        ColumnMask(1)
    }

    fn has(self, index: usize) -> bool {
        index == 0 || self.0 & (1 << index) != 0
    }

    /// Adds the named columns of `M`; a name `M` does not have selects every column.
    pub fn with<M: Positioned>(self, columns: &[&str]) -> Self {
        columns.iter().fold(self, |mask, name| {
            match M::COLUMNS.iter().position(|column| column == name) {
                Some(index) => ColumnMask(mask.0 | 1 << index),
                None => ColumnMask::ALL,
            }
        })
    }

    /// How many of `M`'s columns it selects.
    pub fn width<M: Positioned>(self) -> usize {
        (0..M::COLUMNS.len()).filter(|i| self.has(*i)).count()
    }
}

/// A model whose columns a statement selects in `COLUMNS` order, starting at some index.
pub trait Positioned: Sized {
    /// Its columns, in decoding order; the first is the primary key.
    const COLUMNS: &'static [&'static str];

    /// Decodes the model from the row's columns from `at` on: those of `mask`, in `COLUMNS`
    /// order; the others take their default.
    fn decode_masked(row: &QueryResult, at: usize, mask: ColumnMask) -> Result<Self, DbErr>;

    /// `alias."column"` for each column of `mask`, comma-separated, for a SELECT list.
    fn select_masked(alias: &str, mask: ColumnMask) -> String {
        Self::COLUMNS
            .iter()
            .enumerate()
            .filter(|(index, _)| mask.has(*index))
            .map(|(_, column)| format!("{alias}.\"{column}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `alias."column"` for each column.
    fn select(alias: &str) -> String {
        Self::select_masked(alias, ColumnMask::ALL)
    }
}

/// Reads models from a row one after another, in the order its SELECT list put them.
pub struct RowReader<'r> {
    row: &'r QueryResult,
    at: usize,
}

impl<'r> RowReader<'r> {
    pub fn new(row: &'r QueryResult) -> Self {
        Self { row, at: 0 }
    }

    /// The next model, of the columns `mask` selected.
    pub fn model<M: Positioned>(&mut self, mask: ColumnMask) -> Result<M, DbErr> {
        let model = M::decode_masked(self.row, self.at, mask)?;
        self.at += mask.width::<M>();
        Ok(model)
    }

    /// The next model from a LEFT JOIN: `None` when the joined row is absent (its key is
    /// NULL).
    pub fn optional<M: Positioned>(&mut self, mask: ColumnMask) -> Result<Option<M>, DbErr> {
        let present = self
            .row
            .try_get_by_index::<Option<Uuid>>(self.at)?
            .is_some();
        let model = if present {
            Some(M::decode_masked(self.row, self.at, mask)?)
        } else {
            None
        };
        self.at += mask.width::<M>();
        Ok(model)
    }

    /// The next column's value.
    pub fn value<T: TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.at)?;
        self.at += 1;
        Ok(value)
    }
}

macro_rules! positioned {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl Positioned for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn decode_masked(
                row: &QueryResult,
                at: usize,
                mask: ColumnMask,
            ) -> Result<Self, DbErr> {
                let mut column = 0;
                let mut index = at;
                // The next column's index in the row, if the statement selected it.
                let mut next = || {
                    column += 1;
                    mask.has(column - 1).then(|| {
                        index += 1;
                        index - 1
                    })
                };
                // Struct fields are evaluated in the order written: the order of COLUMNS.
                Ok(Self {
                    $($field: match next() {
                        Some(index) => row.try_get_by_index(index)?,
                        None => Default::default(),
                    }),+
                })
            }
        }
    };
}

positioned!(opportunity::Model {
    id,
    title,
    contact_id,
    company_id,
    owner_id,
    pipeline_id,
    stage_id,
    value_amount,
    currency,
    expected_close_date,
    status,
    lost_reason,
    stage_entered_at,
    position,
    closed_at,
    created_at,
    updated_at,
});

positioned!(contact::Model {
    id,
    first_name,
    last_name,
    email,
    phone,
    company_id,
    owner_id,
    source,
    status,
    custom_fields,
    name_key,
    search_text,
    last_activity_at,
    created_at,
    updated_at,
});

positioned!(company::Model {
    id,
    name,
    name_key,
    domain,
    industry,
    size,
    address,
    owner_id,
    created_at,
    updated_at,
});

positioned!(user::Model {
    id,
    email,
    name,
    password_hash,
    role,
    status,
    auth_version,
    last_login_at,
    created_at,
    updated_at,
});

positioned!(pipeline::Model {
    id,
    name,
    is_default,
    position,
    created_at,
    updated_at,
});

positioned!(pipeline_stage::Model {
    id,
    pipeline_id,
    name,
    position,
    probability,
    kind,
    created_at,
    updated_at,
});

positioned!(activity::Model {
    id,
    kind,
    subject,
    body,
    due_at,
    completed_at,
    contact_id,
    opportunity_id,
    author_id,
    created_at,
    updated_at,
});

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::*;

    /// The lists name every column of their table, the way the table names it.
    fn same_columns<E: EntityTrait>(positioned: &[&str]) {
        let table: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(positioned, table.as_slice(), "{}", E::default().as_str());
    }

    #[test]
    fn every_list_matches_its_table() {
        same_columns::<opportunity::Entity>(opportunity::Model::COLUMNS);
        same_columns::<contact::Entity>(contact::Model::COLUMNS);
        same_columns::<company::Entity>(company::Model::COLUMNS);
        same_columns::<user::Entity>(user::Model::COLUMNS);
        same_columns::<pipeline::Entity>(pipeline::Model::COLUMNS);
        same_columns::<pipeline_stage::Entity>(pipeline_stage::Model::COLUMNS);
        same_columns::<activity::Entity>(activity::Model::COLUMNS);
    }
}
