use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A number series: the next number of one kind of document, with its prefix and range.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "document_series")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `quote`, `invoice` or `credit_note`.
    pub kind: String,
    pub name: String,
    pub prefix: String,
    /// The number's digits, zero-padded.
    pub digits: i32,
    pub next_number: i64,
    /// The last number the range allows.
    pub last_number: Option<i64>,
    /// The issue date of the last document numbered.
    pub last_issue_date: Option<Date>,
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
