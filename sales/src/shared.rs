//! What sales' entities share: exact decimals and currencies read from input and from
//! storage, and the GraphQL helpers their objects use.

use std::str::FromStr;

use async_graphql::OneofObject;
use entity::tenant::{company, contact};
use platform::{
    db::find_by_id,
    error::{AppError, AppResult},
};
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

pub(crate) use platform::{
    graphql::input::{opt_id, optional_text, patch_id, patch_text, required_text},
    id,
};

use crate::totals::Discount;

/// The most decimal places a quantity, price or component quantity may have.
pub(crate) const PRICE_SCALE: u32 = 6;

/// An exact decimal input: not negative, at most `max_scale` places and at most `max`.
/// `field` names it in the error.
pub(crate) fn decimal_input(
    value: Decimal,
    field: &str,
    max_scale: u32,
    max: Decimal,
) -> AppResult<Decimal> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(AppError::bad_input(
            field,
            format!("{field} cannot be negative"),
        ));
    }
    let value = value.normalize();
    if value.scale() > max_scale {
        return Err(AppError::bad_input(
            field,
            format!("{field} has at most {max_scale} decimal places"),
        ));
    }
    if value > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} is at most {max}"),
        ));
    }
    Ok(value)
}

/// A quantity: more than zero, up to a billion, six places.
pub(crate) fn quantity_input(value: Decimal, field: &str) -> AppResult<Decimal> {
    let quantity = decimal_input(value, field, PRICE_SCALE, Decimal::from(1_000_000_000))?;
    if quantity.is_zero() {
        return Err(AppError::bad_input(
            field,
            format!("{field} is more than 0"),
        ));
    }
    Ok(quantity)
}

/// A unit price in major units: up to a trillion, six places.
pub(crate) fn price_input(value: Decimal, field: &str) -> AppResult<Decimal> {
    decimal_input(
        value,
        field,
        PRICE_SCALE,
        Decimal::from(1_000_000_000_000i64),
    )
}

/// A percentage from 0 to 100, four places.
pub(crate) fn percent_input(value: Decimal, field: &str) -> AppResult<Decimal> {
    decimal_input(value, field, 4, Decimal::ONE_HUNDRED)
}

/// An ISO 4217 code with a minor unit (0, 2 or 3 places), upper-cased, and its exponent.
pub(crate) fn currency_input(raw: &str, field: &str) -> AppResult<(String, u32)> {
    let code = raw.trim().to_ascii_uppercase();
    let currency = iso_currency::Currency::from_code(&code).ok_or_else(|| {
        AppError::bad_input(field, format!("{raw:?} is not an ISO 4217 currency code"))
    })?;
    match currency.exponent() {
        Some(exponent @ (0 | 2 | 3)) => Ok((code, u32::from(exponent))),
        _ => Err(AppError::bad_input(
            field,
            format!("{code} is not a currency documents can be written in"),
        )),
    }
}

/// A stored currency's exponent; an unknown one is a bug in the data.
pub(crate) fn stored_exponent(code: &str) -> AppResult<u32> {
    iso_currency::Currency::from_code(code)
        .and_then(|c| c.exponent())
        .map(u32::from)
        .ok_or_else(|| AppError::internal(format!("unknown stored currency {code:?}")))
}

/// A stored decimal's text read back; anything else is a bug in the data.
pub(crate) fn stored_decimal(text: &str) -> AppResult<Decimal> {
    Decimal::from_str(text)
        .map_err(|_| AppError::internal(format!("stored decimal {text:?} does not parse")))
}

/// A discount: a percentage or an amount, exactly one.
#[derive(OneofObject, Clone, Copy)]
pub enum DiscountInput {
    /// Percent: `10` is 10%.
    Percent(Decimal),
    /// Major units of the document's currency.
    Amount(Decimal),
}

impl DiscountInput {
    pub(crate) fn parse(self, field: &str, exponent: Option<u32>) -> AppResult<Discount> {
        Ok(match self {
            Self::Percent(percent) => Discount::Percent(percent_input(percent, field)?),
            Self::Amount(amount) => {
                let amount = price_input(amount, field)?;
                if let Some(exponent) = exponent
                    && amount.scale() > exponent
                {
                    return Err(AppError::bad_input(
                        field,
                        format!(
                            "a discount in this currency has at most {exponent} decimal places"
                        ),
                    ));
                }
                Discount::Amount(amount)
            }
        })
    }
}

/// A discount as GraphQL shows it.
#[derive(async_graphql::SimpleObject, Clone)]
pub struct DocumentDiscount {
    /// Set for a percentage discount.
    pub percent: Option<Decimal>,
    /// Set for an amount, in major units of the document's currency.
    pub amount: Option<Decimal>,
}

impl From<Discount> for DocumentDiscount {
    fn from(discount: Discount) -> Self {
        match discount {
            Discount::Percent(percent) => Self {
                percent: Some(percent),
                amount: None,
            },
            Discount::Amount(amount) => Self {
                percent: None,
                amount: Some(amount),
            },
        }
    }
}

/// A stored discount read back.
pub(crate) fn stored_discount(value: Option<&serde_json::Value>) -> AppResult<Option<Discount>> {
    value
        .map(|v| {
            serde_json::from_value(v.clone())
                .map_err(|e| AppError::internal(format!("stored discount does not parse: {e}")))
        })
        .transpose()
}

/// A discount as stored.
pub(crate) fn discount_json(discount: Option<Discount>) -> Option<serde_json::Value> {
    discount.map(|d| serde_json::to_value(d).unwrap_or(serde_json::Value::Null))
}

/// The contact and company a document names exist in this tenant.
pub(crate) async fn check_parties<C: ConnectionTrait>(
    conn: &C,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
) -> AppResult<()> {
    if let Some(id) = contact_id {
        find_by_id::<contact::Entity, _>(conn, id, "contact").await?;
    }
    if let Some(id) = company_id {
        find_by_id::<company::Entity, _>(conn, id, "company").await?;
    }
    Ok(())
}

/// Who a document is for, as they are now (kept on it when it is sent or issued): the
/// contact's name and email, the company's (or the contact's company's) name and address.
/// `what` names the document in the refusal when it names neither.
pub(crate) async fn buyer_of<C: ConnectionTrait>(
    conn: &C,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    what: &str,
) -> AppResult<serde_json::Value> {
    let contact = match contact_id {
        Some(id) => Some(find_by_id::<contact::Entity, _>(conn, id, "contact").await?),
        None => None,
    };
    let company_id = company_id.or(contact.as_ref().and_then(|c| c.company_id));
    let company = match company_id {
        Some(id) => Some(find_by_id::<company::Entity, _>(conn, id, "company").await?),
        None => None,
    };
    if contact.is_none() && company.is_none() {
        return Err(AppError::refused(
            "INCOMPLETE",
            format!("{what} needs a contact or a company"),
        ));
    }
    Ok(json!({
        "contactName": contact.as_ref().map(|c| match &c.last_name {
            Some(last) => format!("{} {last}", c.first_name),
            None => c.first_name.clone(),
        }),
        "email": contact.as_ref().and_then(|c| c.email.clone()),
        "companyName": company.as_ref().map(|c| c.name.clone()),
        "address": company.as_ref().and_then(|c| c.address.clone()),
    }))
}
