use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: Option<String>,
    /// argon2id PHC string; `None` until setup or invite acceptance.
    pub password_hash: Option<String>,
    /// `owner`, `admin`, `manager`, `sales`, `support` or `viewer`.
    pub role: String,
    /// `invited`, `active` or `deactivated`.
    pub status: String,
    /// Access tokens carry it; raising it refuses every token issued before.
    pub auth_version: i64,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
