use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A product or service in the catalog, or a bundle of them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `product`, `service` or `bundle`.
    pub kind: String,
    pub sku: String,
    pub sku_key: String,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub unit: Option<String>,
    /// Major units of `currency`, as decimal text.
    pub unit_price: String,
    pub currency: String,
    pub tax_rate_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
