//! The tenant's tax rates. A rate is archived, never deleted: documents keep a copy of the
//! rate they were written with, and a rate in use stays readable.

pub mod events;
pub mod schema;

use chrono::Utc;
use entity::tenant::tax_rate;
use platform::{
    audit::Audited,
    auth::Principal,
    db::find_by_id,
    error::{AppError, AppResult},
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uuid::Uuid;

use self::events::TaxRates;
use crate::{shared::stored_decimal, totals::TaxSnapshot, types::TaxKind};

pub struct NewTaxRate {
    pub name: String,
    pub kind: TaxKind,
    pub percentage: Decimal,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TaxRateChanges {
    pub name: Option<String>,
    pub kind: Option<TaxKind>,
    pub percentage: Option<Decimal>,
    pub active: Option<bool>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<tax_rate::Model> {
    find_by_id::<tax_rate::Entity, _>(conn, id, "tax rate").await
}

/// By name; archived rates only when asked.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    include_archived: bool,
) -> AppResult<Vec<tax_rate::Model>> {
    let mut select = tax_rate::Entity::find();
    if !include_archived {
        select = select.filter(tax_rate::Column::Active.eq(true));
    }
    Ok(select
        .order_by_asc(tax_rate::Column::NameKey)
        .all(conn)
        .await?)
}

/// Rates of kinds that carry no tax are at 0%.
fn check(kind: TaxKind, percentage: Decimal) -> AppResult<()> {
    let untaxed = matches!(
        kind,
        TaxKind::Zero | TaxKind::Exempt | TaxKind::ReverseCharge | TaxKind::OutsideScope
    );
    if untaxed && !percentage.is_zero() {
        return Err(AppError::bad_input(
            "percentage",
            format!("a {} rate is 0%", kind.as_str().replace('_', " ")),
        ));
    }
    Ok(())
}

/// Names are unique per tenant, whatever their case.
async fn ensure_name_free<C: ConnectionTrait>(
    conn: &C,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut select =
        tax_rate::Entity::find().filter(tax_rate::Column::NameKey.eq(name.to_lowercase()));
    if let Some(id) = except {
        select = select.filter(tax_rate::Column::Id.ne(id));
    }
    match select.one(conn).await? {
        Some(taken) => Err(AppError::Conflict(format!(
            "a tax rate named {:?} exists",
            taken.name
        ))),
        None => Ok(()),
    }
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewTaxRate,
) -> AppResult<tax_rate::Model> {
    check(new.kind, new.percentage)?;
    ensure_name_free(conn, &new.name, None).await?;
    let now = Utc::now();
    let row = tax_rate::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(new.name.to_lowercase()),
        name: Set(new.name),
        kind: Set(new.kind.as_str().to_owned()),
        percentage: Set(new.percentage.normalize().to_string()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    };
    TaxRates::insert(conn, actor, row).await
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: TaxRateChanges,
    revert_of: Option<Uuid>,
) -> AppResult<tax_rate::Model> {
    let current = find(conn, id).await?;
    let kind = match changes.kind {
        Some(kind) => kind,
        None => TaxKind::from_stored(&current.kind)?,
    };
    let percentage = match changes.percentage {
        Some(percentage) => percentage,
        None => stored_decimal(&current.percentage)?,
    };
    check(kind, percentage)?;
    let name = changes.name.unwrap_or_else(|| current.name.clone());
    ensure_name_free(conn, &name, Some(id)).await?;
    let row = tax_rate::ActiveModel {
        id: Set(id),
        name_key: Set(name.to_lowercase()),
        name: Set(name),
        kind: Set(kind.as_str().to_owned()),
        percentage: Set(percentage.normalize().to_string()),
        active: Set(changes.active.unwrap_or(current.active)),
        created_at: Set(current.created_at),
        updated_at: Set(Utc::now()),
    };
    TaxRates::update(conn, actor, &current, row, revert_of).await
}

/// A rate as a document copies it.
pub fn snapshot(rate: &tax_rate::Model) -> AppResult<TaxSnapshot> {
    Ok(TaxSnapshot {
        id: Some(rate.id),
        name: rate.name.clone(),
        kind: TaxKind::from_stored(&rate.kind)?,
        percentage: stored_decimal(&rate.percentage)?,
    })
}
