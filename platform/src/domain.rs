//! Value types shared by the contexts, parsed at the edge: once a service holds one, it is
//! valid ("parse, don't validate").

use std::{fmt, sync::LazyLock};

use regex::Regex;
use serde::{Deserialize, Deserializer};

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

/// A field of an update: left as is, cleared, or set.
#[derive(Clone, Debug, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn from_graphql(value: async_graphql::MaybeUndefined<T>) -> Self {
        match value {
            async_graphql::MaybeUndefined::Undefined => Self::Keep,
            async_graphql::MaybeUndefined::Null => Self::Clear,
            async_graphql::MaybeUndefined::Value(v) => Self::Set(v),
        }
    }

    /// Maps a set value through a parser.
    pub fn try_map<U>(
        self,
        parse: impl FnOnce(T) -> Result<U, AppError>,
    ) -> Result<Patch<U>, AppError> {
        Ok(match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(v) => Patch::Set(parse(v)?),
        })
    }

    /// The new value for a nullable column, given its current one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(v) => Some(v),
        }
    }
}

/// Read from a stored snapshot: null clears, a value sets; a field the snapshot leaves out
/// keeps (with `#[serde(default)]` on the struct).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Self::Clear, Self::Set))
    }
}

/// The stored values of these types were valid when written: read back, they are parsed
/// again all the same.
macro_rules! deserialize_by_parsing {
    ($($name:ident),+) => {$(
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw, stringify!($name)).map_err(|_| {
                    serde::de::Error::custom(format!(
                        concat!("{:?} is not a valid ", stringify!($name)),
                        raw
                    ))
                })
            }
        }
    )+};
}

deserialize_by_parsing!(Email, PhoneE164);

/// A closed vocabulary stored as lowercase names and served as a GraphQL enum:
/// `as_str` for storage, `from_stored` (and `Deserialize`) to read it back.
#[macro_export]
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Reads a stored value; anything else is a bug in the data, not user input.
            pub fn from_stored(raw: &str) -> $crate::error::AppResult<Self> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err($crate::error::AppError::internal(format!(
                        concat!("unknown ", stringify!($name), " {:?} stored"),
                        other
                    ))),
                }
            }
        }

        /// Written as stored (a snapshot kept on a document).
        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Read from a stored snapshot (an audit entry's values).
        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let raw = <String as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                Self::from_stored(&raw).map_err(|_| {
                    $crate::__serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        raw
                    ))
                })
            }
        }
    };
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

    #[test]
    fn stored_values_read_back_as_patches() {
        #[derive(Default, Deserialize)]
        #[serde(default)]
        struct Changes {
            email: Patch<Email>,
            phone: Patch<PhoneE164>,
            name: Patch<String>,
        }
        let changes: Changes = serde_json::from_value(serde_json::json!({
            "email": "ann@example.com",
            "phone": null,
        }))
        .expect("reads back");
        assert!(matches!(changes.email, Patch::Set(e) if e.as_str() == "ann@example.com"));
        assert!(matches!(changes.phone, Patch::Clear));
        assert!(matches!(changes.name, Patch::Keep));
        let broken = serde_json::from_value::<Changes>(serde_json::json!({"email": "nope"}));
        assert!(broken.is_err());
    }
}
