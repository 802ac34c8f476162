//! Access tokens (JWT, HS256 pinned, `exp` required) and opaque one-time/refresh tokens.
//!
//! Tenant tokens carry audience `nexo-tenant` and the tenant id in `tid`; admin tokens carry
//! audience `nexo-admin` and no tenant. Each kind is refused where the other is expected.

use std::path::Path;

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AdminPrincipal, Role};
use crate::error::{AppError, AppResult};

const TENANT_AUDIENCE: &str = "nexo-tenant";
const ADMIN_AUDIENCE: &str = "nexo-admin";
const ISSUER: &str = "nexo";
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

#[derive(Serialize, Deserialize)]
struct TenantClaims {
    tid: Uuid,
    /// The role when issued; informative only: requests act with the user's current role.
    role: Role,
    /// The user's access version when issued (see [`TenantToken::version`]).
    ver: i64,
    #[serde(flatten)]
    registered: Registered,
}

#[derive(Serialize, Deserialize)]
struct AdminClaims {
    #[serde(flatten)]
    registered: Registered,
}

/// The claims every Nexo token carries: who, when, which token, for whom, from whom.
#[derive(Serialize, Deserialize)]
struct Registered {
    sub: Uuid,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: Uuid,
    aud: String,
    iss: String,
}

impl Registered {
    /// Claims for `subject` on `audience`, valid from now until `expires_at`.
    fn new(subject: Uuid, audience: &str, expires_at: DateTime<Utc>) -> Self {
        let now = Utc::now();
        Self {
            sub: subject,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::now_v7(),
            aud: audience.into(),
            iss: ISSUER.into(),
        }
    }
}

/// What a verified tenant access token says. It proves who signed in and when; whether
/// that user may still act, and with which role, is [`super::AccessControl`]'s to say.
#[derive(Clone, Copy, Debug)]
pub struct TenantToken {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// The user's access version when the token was issued; a token whose version is no
    /// longer the user's was revoked (signed out everywhere, deactivated).
    pub version: i64,
    pub expires_at: DateTime<Utc>,
}

/// An issued access token and when it expires.
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue_tenant(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
        role: Role,
        version: i64,
    ) -> AppResult<AccessToken> {
        let expires_at = Utc::now() + ACCESS_TOKEN_TTL;
        let claims = TenantClaims {
            tid: tenant_id,
            role,
            ver: version,
            registered: Registered::new(user_id, TENANT_AUDIENCE, expires_at),
        };
        self.encode(&claims, expires_at)
    }

    pub fn issue_admin(&self, admin_id: Uuid) -> AppResult<AccessToken> {
        let expires_at = Utc::now() + ACCESS_TOKEN_TTL;
        let claims = AdminClaims {
            registered: Registered::new(admin_id, ADMIN_AUDIENCE, expires_at),
        };
        self.encode(&claims, expires_at)
    }

    /// Verifies a tenant access token's signature, times and audience, and that it
    /// belongs to `tenant_id`.
    pub fn verify_tenant(&self, token: &str, tenant_id: Uuid) -> AppResult<TenantToken> {
        let claims: TenantClaims = self.decode(token, TENANT_AUDIENCE)?;
        if claims.tid != tenant_id {
            return Err(AppError::Unauthenticated(
                "this token belongs to another tenant".into(),
            ));
        }
        let expires_at = DateTime::from_timestamp(claims.registered.exp, 0).ok_or_else(|| {
            AppError::Unauthenticated("the access token is invalid or expired".into())
        })?;
        Ok(TenantToken {
            user_id: claims.registered.sub,
            tenant_id: claims.tid,
            version: claims.ver,
            expires_at,
        })
    }

    pub fn verify_admin(&self, token: &str) -> AppResult<AdminPrincipal> {
        let claims: AdminClaims = self.decode(token, ADMIN_AUDIENCE)?;
        Ok(AdminPrincipal {
            admin_id: claims.registered.sub,
        })
    }

    fn encode<T: Serialize>(
        &self,
        claims: &T,
        expires_at: DateTime<Utc>,
    ) -> AppResult<AccessToken> {
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing token: {e}")))?;
        Ok(AccessToken { token, expires_at })
    }

    fn decode<T: for<'de> Deserialize<'de>>(&self, token: &str, audience: &str) -> AppResult<T> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        jsonwebtoken::decode::<T>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                tracing::debug!(error = %e, "access token refused");
                AppError::Unauthenticated("the access token is invalid or expired".into())
            })
    }
}

/// A random token shown once (setup, invite, refresh); only its hash is stored.
pub struct OpaqueToken {
    pub token: String,
    pub hash: String,
}

impl OpaqueToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        Self { token, hash }
    }
}

/// SHA-256, hex: opaque tokens have 256 bits of entropy, so a fast hash is enough.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The development signing key: read from `<data dir>/jwt-secret`, created on first run.
pub fn load_or_create_dev_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    crate::private_fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    crate::private_fs::create_file(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, secret.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}
