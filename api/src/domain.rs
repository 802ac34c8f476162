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
    fn passwords() {
        assert!(NewPassword::parse("short", "password").is_err());
        assert!(NewPassword::parse("long enough!", "password").is_ok());
    }
}
