use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One of a bundle's components.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "product_components")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bundle_id: Uuid,
    pub component_id: Uuid,
    /// Decimal text.
    pub quantity: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
