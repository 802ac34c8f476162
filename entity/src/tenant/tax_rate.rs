use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A tax rate the tenant charges.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tax_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    /// `standard`, `reduced`, `zero`, `exempt`, `reverse_charge` or `outside_scope`.
    pub kind: String,
    /// Percent, as decimal text (`"21"`, `"5.5"`).
    pub percentage: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
