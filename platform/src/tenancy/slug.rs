use std::{fmt, sync::LazyLock};

use regex::Regex;

use crate::error::AppError;

static SLUG_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$").expect("the slug pattern is a valid regex")
});

/// Names no tenant may take: hosts the platform itself serves or may serve.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "www",
    "static",
    "assets",
    "cdn",
    "mail",
    "smtp",
    "ftp",
    "status",
    "docs",
    "help",
    "support",
    "billing",
    "auth",
    "login",
    "dashboard",
    "nexo",
    "public",
    "internal",
    "system",
    "root",
    "test",
    "ws",
    "graphql",
    "portal",
    "blog",
];

/// A validated tenant slug: the only source of schema and file names, so nothing else ever
/// reaches an identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if !SLUG_PATTERN.is_match(raw) {
            return Err(AppError::bad_input(
                "slug",
                "a slug is 3 to 40 characters: lowercase letters, digits and hyphens, \
                 starting with a letter and not ending with a hyphen",
            ));
        }
        if RESERVED.contains(&raw) {
            return Err(AppError::bad_input(
                "slug",
                format!("{raw:?} is reserved; choose another slug"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's PostgreSQL schema, quoted for use in SQL.
    pub fn quoted_schema(&self) -> String {
        format!("\"{}\"", self.schema_name())
    }

    /// The statement that scopes a PostgreSQL transaction to this tenant's schema. The slug
    /// is validated, so the quoted name cannot carry SQL.
    pub fn set_local_search_path(&self) -> String {
        format!("SET LOCAL search_path TO {}", self.quoted_schema())
    }

    /// The tenant's PostgreSQL schema name, unquoted (for catalog lookups and `pg_dump -n`).
    pub fn schema_name(&self) -> String {
        format!("t_{}", self.0)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_slugs() {
        for ok in ["acme", "acme-corp", "a1b", &format!("a{}", "b".repeat(39))] {
            assert!(Slug::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn refuses_bad_and_reserved_slugs() {
        let long = format!("a{}", "b".repeat(40));
        for bad in [
            "Acme",
            "a",
            "ab-",
            "-acme",
            "1acme",
            "admin",
            "x;drop schema nexo",
            &long,
        ] {
            let err = Slug::parse(bad).expect_err(bad);
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad}");
        }
    }
}
