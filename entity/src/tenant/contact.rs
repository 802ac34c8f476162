use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub first_name: String,
    pub last_name: Option<String>,
    /// Lowercased; unique in the tenant when present.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub company_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub source: String,
    pub status: String,
    /// A JSON object of tenant-defined keys.
    pub custom_fields: Json,
    /// Lowercased "last first": the name sort key.
    pub name_key: String,
    /// Lowercased name, email and phone digits, for substring search.
    pub search_text: String,
    pub last_activity_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
