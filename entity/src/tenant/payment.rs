use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Money received from a client (negative: a refund), allocated to invoices; what is not
/// allocated is the client's credit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub amount_minor: i64,
    pub unallocated_minor: i64,
    pub currency: String,
    /// `bank_transfer`, `card`, `cash`, `cheque`, `direct_debit` or `other`.
    pub method: String,
    pub reference: Option<String>,
    pub received_on: Date,
    pub notes: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
