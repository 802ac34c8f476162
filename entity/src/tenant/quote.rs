use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A quote: one revision of an offer to a client.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Set when first sent; revisions keep their first revision's number.
    pub series_id: Option<Uuid>,
    pub sequence: Option<i64>,
    pub number: Option<String>,
    /// From 1.
    pub revision: i32,
    /// The revision this one replaced.
    pub previous_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// `draft`, `sent`, `accepted`, `rejected`, `expired`, `superseded` or `cancelled`.
    pub status: String,
    pub currency: String,
    pub prices_include_tax: bool,
    pub rounding: String,
    pub tax_rounding: String,
    /// `{"percent": "10"}` or `{"amount": "5.00"}`.
    pub discount: Option<Json>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    pub valid_until: Option<Date>,
    /// The end of `valid_until` in the tenant's timezone, fixed when sent.
    pub expires_at: Option<DateTimeUtc>,
    /// The money engine's figures, minor units of `currency`.
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_exclusive_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_groups: Json,
    /// Who it was sent to, as they were then.
    pub buyer: Option<Json>,
    /// SHA-256 of the public link's token, hex.
    pub link_hash: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    /// The acceptance's evidence or the rejection's reason.
    pub decision: Option<Json>,
    pub owner_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
