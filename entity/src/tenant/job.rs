use sea_orm::entity::prelude::*;

/// A durable job or timer: `kind` with its `payload`, due at `due_at`. A worker holds it
/// while `lease_until` is ahead; `fence` grows with every lease, so a worker whose lease
/// was taken over cannot write its outcome.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub payload: Json,
    /// `queued`, `running`, `done`, `dead` or `cancelled`.
    pub state: String,
    pub due_at: DateTimeUtc,
    pub attempts: i32,
    pub max_attempts: i32,
    pub fence: i64,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// `[{"attempt": n, "at": ..., "error": ...}]`, oldest first.
    pub errors: Json,
    pub result: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
