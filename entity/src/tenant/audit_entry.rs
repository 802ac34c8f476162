use sea_orm::entity::prelude::*;

/// Who changed what in the CRM, with the changed fields before and after.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    /// `contact`, `company`, `opportunity`, `activity`, `pipeline` or `stage`.
    pub entity_type: String,
    pub entity_id: Uuid,
    /// `create`, `update`, `delete` or `revert`.
    pub action: String,
    /// `{field: {"before": .., "after": ..}}`.
    pub changes: Json,
    /// The entry a revert undid.
    pub revert_of: Option<Uuid>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
