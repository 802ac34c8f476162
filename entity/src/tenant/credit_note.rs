use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A credit note: corrects an issued invoice by crediting part or all of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "credit_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub series_id: Option<Uuid>,
    pub sequence: Option<i64>,
    pub number: Option<String>,
    /// `draft` or `issued`.
    pub status: String,
    pub reason: Option<String>,
    pub currency: String,
    pub prices_include_tax: bool,
    pub rounding: String,
    pub tax_rounding: String,
    /// A full credit's copy of its invoice's discount.
    pub discount: Option<Json>,
    pub issue_date: Option<Date>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_exclusive_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_groups: Json,
    pub issued_at: Option<DateTimeUtc>,
    pub owner_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
