use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An invoice: a draft, then issued with its series' next number, never edited again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub series_id: Option<Uuid>,
    pub sequence: Option<i64>,
    pub number: Option<String>,
    /// `draft` or `issued`.
    pub status: String,
    /// The accepted quote it bills.
    pub quote_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub currency: String,
    pub prices_include_tax: bool,
    pub rounding: String,
    pub tax_rounding: String,
    pub discount: Option<Json>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    /// Days from the issue date to the due date.
    pub payment_terms_days: i32,
    pub issue_date: Option<Date>,
    pub due_date: Option<Date>,
    /// The money engine's figures, minor units of `currency`.
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_exclusive_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_groups: Json,
    /// The sum of its issued credit notes.
    pub credited_minor: i64,
    /// The sum of the payments allocated to it (refunds negative).
    pub paid_minor: i64,
    pub buyer: Option<Json>,
    pub issued_at: Option<DateTimeUtc>,
    pub owner_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
