use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A line of a sales document, with what it sells copied as it was when written.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "document_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub quote_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub credit_note_id: Option<Uuid>,
    /// From 0.
    pub position: i32,
    pub product_id: Option<Uuid>,
    pub sku: Option<String>,
    pub description: String,
    pub unit: Option<String>,
    /// Decimal text.
    pub quantity: String,
    /// Major units, decimal text.
    pub unit_price: String,
    pub discount: Option<Json>,
    /// Its parts (one, or a bundle's components): each with its tax rate, weight and amount.
    pub parts: Json,
    pub net_minor: i64,
    pub document_discount_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
