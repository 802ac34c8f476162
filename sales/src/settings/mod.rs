//! The tenant's sales settings (timezone, default currency, rounding, default tax) and its
//! number series.

pub mod schema;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::tenant::{document_series, sales_setting};
use platform::{
    db::find_by_id,
    domain::Patch,
    error::{AppError, AppResult, on_unique_violation},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    tax_rates,
    types::{RoundingMode, SeriesKind, TaxRounding},
};

/// The settings' one row.
const SETTINGS_ID: i32 = 1;

#[derive(Default)]
pub struct SettingsChanges {
    pub timezone: Option<Tz>,
    pub default_currency: Option<String>,
    pub rounding: Option<RoundingMode>,
    pub tax_rounding: Option<TaxRounding>,
    pub prices_include_tax: Option<bool>,
    pub default_tax_rate_id: Patch<Uuid>,
    pub quote_validity_days: Option<i32>,
}

pub async fn get<C: ConnectionTrait>(conn: &C) -> AppResult<sales_setting::Model> {
    sales_setting::Entity::find_by_id(SETTINGS_ID)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("the tenant has no sales settings row"))
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    changes: SettingsChanges,
) -> AppResult<sales_setting::Model> {
    let current = get(conn).await?;
    if let Patch::Set(id) = changes.default_tax_rate_id {
        let rate = tax_rates::find(conn, id).await?;
        if !rate.active {
            return Err(AppError::bad_input(
                "defaultTaxRateId",
                "an archived tax rate cannot be the default",
            ));
        }
    }
    let row = sales_setting::ActiveModel {
        id: Set(SETTINGS_ID),
        timezone: Set(changes
            .timezone
            .map(|tz| tz.name().to_owned())
            .unwrap_or(current.timezone.clone())),
        default_currency: Set(changes
            .default_currency
            .unwrap_or(current.default_currency.clone())),
        rounding: Set(changes
            .rounding
            .map(|r| r.as_str().to_owned())
            .unwrap_or(current.rounding.clone())),
        tax_rounding: Set(changes
            .tax_rounding
            .map(|r| r.as_str().to_owned())
            .unwrap_or(current.tax_rounding.clone())),
        prices_include_tax: Set(changes
            .prices_include_tax
            .unwrap_or(current.prices_include_tax)),
        default_tax_rate_id: Set(changes
            .default_tax_rate_id
            .apply(current.default_tax_rate_id)),
        quote_validity_days: Set(changes
            .quote_validity_days
            .unwrap_or(current.quote_validity_days)),
        updated_at: Set(Utc::now()),
    };
    Ok(row.update(conn).await?)
}

/// The tenant's timezone.
pub fn timezone(settings: &sales_setting::Model) -> AppResult<Tz> {
    settings.timezone.parse().map_err(|_| {
        AppError::internal(format!(
            "stored timezone {:?} is unknown",
            settings.timezone
        ))
    })
}

/// Today where the tenant is.
pub fn today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// The first instant after `day` ends where the tenant is.
pub fn end_of_day(day: NaiveDate, tz: Tz) -> AppResult<DateTime<Utc>> {
    let next = day
        .succ_opt()
        .ok_or_else(|| AppError::bad_input("validUntil", "the date is out of range"))?;
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A midnight that a clock change skips starts at the first instant that exists after.
    let local = midnight
        .and_local_timezone(tz)
        .earliest()
        .or_else(|| {
            (midnight + chrono::Duration::hours(1))
                .and_local_timezone(tz)
                .earliest()
        })
        .ok_or_else(|| AppError::internal("no local midnight"))?;
    Ok(local.with_timezone(&Utc))
}

pub struct NewSeries {
    pub kind: SeriesKind,
    pub name: String,
    pub prefix: String,
    pub digits: i32,
    pub first_number: i64,
    pub last_number: Option<i64>,
    pub is_default: bool,
}

#[derive(Default)]
pub struct SeriesChanges {
    pub name: Option<String>,
    pub last_number: Patch<i64>,
    pub is_default: Option<bool>,
}

pub async fn find_series<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<document_series::Model> {
    find_by_id::<document_series::Entity, _>(conn, id, "document series").await
}

pub async fn list_series<C: ConnectionTrait>(
    conn: &C,
    kind: Option<SeriesKind>,
) -> AppResult<Vec<document_series::Model>> {
    let mut select = document_series::Entity::find();
    if let Some(kind) = kind {
        select = select.filter(document_series::Column::Kind.eq(kind.as_str()));
    }
    Ok(select
        .order_by_asc(document_series::Column::Kind)
        .order_by_asc(document_series::Column::CreatedAt)
        .all(conn)
        .await?)
}

/// The series a new document of `kind` is numbered in.
pub async fn default_series<C: ConnectionTrait>(
    conn: &C,
    kind: SeriesKind,
) -> AppResult<document_series::Model> {
    document_series::Entity::find()
        .filter(document_series::Column::Kind.eq(kind.as_str()))
        .filter(document_series::Column::IsDefault.eq(true))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "there is no default {} series; make one the default",
                kind.as_str().replace('_', " ")
            ))
        })
}

pub async fn create_series<C: ConnectionTrait>(
    conn: &C,
    new: NewSeries,
) -> AppResult<document_series::Model> {
    check_range(new.first_number, new.last_number)?;
    if new.is_default {
        clear_default(conn, new.kind).await?;
    }
    let now = Utc::now();
    let row = document_series::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().to_owned()),
        name: Set(new.name),
        prefix: Set(new.prefix),
        digits: Set(new.digits),
        next_number: Set(new.first_number),
        last_number: Set(new.last_number),
        last_issue_date: Set(None),
        is_default: Set(new.is_default),
        created_at: Set(now),
        updated_at: Set(now),
    };
    row.insert(conn).await.map_err(|e| {
        on_unique_violation(e, || {
            AppError::Conflict("a series of this kind already has that prefix".into())
        })
    })
}

pub async fn update_series<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    changes: SeriesChanges,
) -> AppResult<document_series::Model> {
    let current = find_series(conn, id).await?;
    let last_number = changes.last_number.apply(current.last_number);
    if let Some(last) = last_number
        && last < current.next_number - 1
    {
        return Err(AppError::bad_input(
            "lastNumber",
            format!(
                "the series has already used numbers up to {}",
                current.next_number - 1
            ),
        ));
    }
    let kind = SeriesKind::from_stored(&current.kind)?;
    match changes.is_default {
        Some(true) => clear_default(conn, kind).await?,
        Some(false) if current.is_default => {
            return Err(AppError::bad_input(
                "isDefault",
                "make another series the default instead",
            ));
        }
        _ => {}
    }
    let row = document_series::ActiveModel {
        id: Set(id),
        name: Set(changes.name.unwrap_or(current.name.clone())),
        last_number: Set(last_number),
        is_default: Set(changes.is_default.unwrap_or(current.is_default)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(row.update(conn).await?)
}

fn check_range(first: i64, last: Option<i64>) -> AppResult<()> {
    if first < 1 {
        return Err(AppError::bad_input(
            "firstNumber",
            "numbers start at 1 or more",
        ));
    }
    if let Some(last) = last
        && last < first
    {
        return Err(AppError::bad_input(
            "lastNumber",
            "the range ends at or after its first number",
        ));
    }
    Ok(())
}

async fn clear_default<C: ConnectionTrait>(conn: &C, kind: SeriesKind) -> AppResult<()> {
    document_series::Entity::update_many()
        .col_expr(document_series::Column::IsDefault, Expr::value(false))
        .filter(document_series::Column::Kind.eq(kind.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Takes the next number of `series` in the caller's transaction: the row stays locked until
/// it ends, so numbers follow commit order, and a rollback gives the number back. Refused
/// when the series' range is used up.
pub async fn take_number<C: ConnectionTrait>(
    conn: &C,
    series_id: Uuid,
) -> AppResult<(document_series::Model, i64)> {
    let result = document_series::Entity::update_many()
        .col_expr(
            document_series::Column::NextNumber,
            Expr::col(document_series::Column::NextNumber).add(1),
        )
        .filter(document_series::Column::Id.eq(series_id))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::NotFound("document series"));
    }
    let series = find_series(conn, series_id).await?;
    let number = series.next_number - 1;
    if let Some(last) = series.last_number
        && number > last
    {
        return Err(AppError::refused(
            "SERIES_EXHAUSTED",
            format!(
                "series {} is used up: its range ends at {last}",
                series.name
            ),
        ));
    }
    Ok((series, number))
}

/// [`take_number`] for a legal document dated `issue_date`: refused when the series' last
/// document is dated later, else the series remembers the date.
pub async fn take_dated_number<C: ConnectionTrait>(
    conn: &C,
    series_id: Uuid,
    issue_date: NaiveDate,
) -> AppResult<(document_series::Model, i64)> {
    let (series, number) = take_number(conn, series_id).await?;
    if let Some(last) = series.last_issue_date
        && last > issue_date
    {
        return Err(AppError::refused(
            "ISSUE_DATE_BEFORE_LAST",
            format!(
                "series {} has a document dated {last}; the next cannot be dated earlier",
                series.name
            ),
        ));
    }
    let row = document_series::ActiveModel {
        id: Set(series.id),
        last_issue_date: Set(Some(issue_date)),
        ..Default::default()
    };
    let series = row.update(conn).await?;
    Ok((series, number))
}

/// A number as printed: the prefix and the zero-padded number.
pub fn format_number(series: &document_series::Model, number: i64) -> String {
    format!(
        "{}{:0width$}",
        series.prefix,
        number,
        width = series.digits.clamp(1, 12) as usize
    )
}
