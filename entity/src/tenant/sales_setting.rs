use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The tenant's sales settings: one row, id 1.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sales_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// An IANA zone (`Europe/Madrid`).
    pub timezone: String,
    /// ISO 4217.
    pub default_currency: String,
    pub rounding: String,
    pub tax_rounding: String,
    pub prices_include_tax: bool,
    pub default_tax_rate_id: Option<Uuid>,
    pub quote_validity_days: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
