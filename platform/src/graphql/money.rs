//! Money as every vertical shows it.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use crate::{domain, error::AppResult};

/// An amount of money. `amount` is a decimal string in major units (`"1234.50"`).
#[derive(SimpleObject, Clone)]
#[graphql(serial)]
pub struct Money {
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<domain::Money> for Money {
    fn from(money: domain::Money) -> Self {
        Self {
            amount: money.amount(),
            currency: money.currency_code().to_owned(),
        }
    }
}

/// A stored amount (minor units of `currency`) as GraphQL money.
pub fn money(minor: i64, currency: &str) -> AppResult<Money> {
    Ok(domain::Money::from_stored(minor, currency)?.into())
}
