//! argon2id hashing, off the async runtime's threads.

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::{
    domain::NewPassword,
    error::{AppError, AppResult},
};

/// A hash to verify against when the account has none, so that a login for an unknown
/// email costs the same time as one for a known email.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"nexo-timing-equaliser", &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
});

pub async fn hash_password(password: &NewPassword) -> AppResult<String> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("hashing password: {e}")))
    })
    .await
    .map_err(|e| AppError::internal(format!("hashing task: {e}")))?
}

/// Verifies `password` against `hash`; with no hash, burns the same time and says no.
pub async fn verify_password(password: &str, hash: Option<&str>) -> AppResult<bool> {
    let password = password.to_owned();
    let (hash, real) = match hash {
        Some(h) => (h.to_owned(), true),
        None => (DUMMY_HASH.clone(), false),
    };
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AppError::internal(format!("stored password hash unreadable: {e}")))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && matches)
    })
    .await
    .map_err(|e| AppError::internal(format!("verifying task: {e}")))?
}
