//! Value types shared by the contexts, parsed at the edge: once a service holds one, it is
//! valid ("parse, don't validate").

use std::{fmt, sync::LazyLock};

use regex::Regex;

use crate::error::AppError;

static EMAIL_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$").expect("the email pattern is a valid regex")
});

/// An email address, trimmed and lowercased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses `raw`; `field` names the input in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 || !EMAIL_PATTERN.is_match(&email) {
            return Err(AppError::bad_input(
                field,
                format!("{raw:?} is not a valid email address"),
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 10 to 256 characters.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(AppError::bad_input(
                field,
                format!("a password needs at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(AppError::bad_input(
                field,
                format!("a password has at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// An amount of money: integer minor units of an ISO 4217 currency, never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: iso_currency::Currency,
}

impl Money {
    /// Parses a decimal amount and a currency code; `field` names the input in errors.
    /// Negative amounts, unknown currencies and more decimals than the currency has are
    /// refused.
    pub fn parse(
        amount: rust_decimal::Decimal,
        currency: &str,
        field: &str,
    ) -> Result<Self, AppError> {
        let code = currency.trim().to_ascii_uppercase();
        let currency = iso_currency::Currency::from_code(&code).ok_or_else(|| {
            AppError::bad_input(
                format!("{field}.currency"),
                format!("{currency:?} is not an ISO 4217 currency code"),
            )
        })?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(AppError::bad_input(
                format!("{field}.amount"),
                "an amount cannot be negative",
            ));
        }
        let exponent = u32::from(currency.exponent().unwrap_or(0));
        let scaled = amount * rust_decimal::Decimal::from(10i64.pow(exponent));
        if scaled.fract() != rust_decimal::Decimal::ZERO {
            return Err(AppError::bad_input(
                format!("{field}.amount"),
                format!("{code} has {exponent} decimal places"),
            ));
        }
        let minor = i64::try_from(scaled.trunc()).map_err(|_| {
            AppError::bad_input(format!("{field}.amount"), "the amount is too large")
        })?;
        Ok(Self { minor, currency })
    }

    /// Rebuilds a stored amount; an unknown stored currency is a bug, not user input.
    pub fn from_stored(minor: i64, currency: &str) -> Result<Self, AppError> {
        let currency = iso_currency::Currency::from_code(currency)
            .ok_or_else(|| AppError::internal(format!("unknown stored currency {currency:?}")))?;
        Ok(Self { minor, currency })
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency_code(self) -> &'static str {
        self.currency.code()
    }

    /// The amount in major units, exact.
    pub fn amount(self) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(self.minor, u32::from(self.currency.exponent().unwrap_or(0)))
    }
}

/// A phone number in E.164 (`+14155550100`). Numbers must carry their country code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneE164(String);

impl PhoneE164 {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        let international = match trimmed.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => trimmed.to_owned(),
        };
        let number = phonenumber::parse(None, &international).map_err(|_| {
            AppError::bad_input(
                field,
                format!("{raw:?} is not a phone number with a country code (+...)"),
            )
        })?;
        if !phonenumber::is_valid(&number) {
            return Err(AppError::bad_input(
                field,
                format!("{raw:?} is not a valid phone number"),
            ));
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ", "email").map(|e| e.0).ok(),
            Some("ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad, "email").is_err(), "{bad}");
        }
    }

    #[test]
    fn money() {
        use rust_decimal::Decimal;
        let usd = Money::parse(Decimal::new(123450, 2), "usd", "value").expect("valid");
        assert_eq!((usd.minor(), usd.currency_code()), (123450, "USD"));
        assert_eq!(usd.amount().to_string(), "1234.50");
        let yen = Money::parse(Decimal::new(500, 0), "JPY", "value").expect("valid");
        assert_eq!(yen.minor(), 500);
        assert!(Money::parse(Decimal::new(5001, 1), "JPY", "value").is_err());
        assert!(Money::parse(Decimal::new(-1, 0), "USD", "value").is_err());
        assert!(Money::parse(Decimal::new(1, 0), "XYZ", "value").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(
            PhoneE164::parse("+1 (415) 555-2671", "phone")
                .map(|p| p.0)
                .ok(),
            Some("+14155552671".into())
        );
        assert_eq!(
            PhoneE164::parse("0044 20 7946 0958", "phone")
                .map(|p| p.0)
                .ok(),
            Some("+442079460958".into())
        );
        for bad in ["555-0100", "+1 12", "phone"] {
            assert!(PhoneE164::parse(bad, "phone").is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("short", "password").is_err());
        assert!(NewPassword::parse("long enough!", "password").is_ok());
    }
}
