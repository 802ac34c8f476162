//! Tenant users: sign-in, sessions (refresh-token families), one-time setup and invite
//! tokens, roles and deactivation. Every function works inside the caller's tenant
//! transaction and takes parsed inputs.

use chrono::{DateTime, Duration, Utc};
use entity::tenant::{refresh_token, user, user_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use platform::{
    auth::{
        JwtKeys, OpaqueToken, Principal, Role, UserStatus, hash_password, hash_token, parse_role,
        verify_password,
    },
    db::find_by_id,
    domain::{Email, NewPassword},
    error::{AppError, AppResult, on_unique_violation},
    events::log,
    tenancy::Tenant,
};

const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
pub const SETUP_TOKEN_TTL: Duration = Duration::days(7);
const INVITE_TOKEN_TTL: Duration = Duration::days(7);

/// Why a one-time token was issued; a token redeems only for its own purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    Setup,
    Invite,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Invite => "invite",
        }
    }
}

/// A signed-in session: a short-lived access token and a rotating refresh token.
pub struct Session {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub user: user::Model,
}

/// Creates a user with no password and a one-time token that lets them set one.
pub async fn create_user_with_token<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
    role: Role,
    purpose: TokenPurpose,
) -> AppResult<(user::Model, OpaqueToken)> {
    let now = Utc::now();
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        name: Set(None),
        password_hash: Set(None),
        role: Set(role.as_str().to_owned()),
        status: Set(UserStatus::Invited.as_str().to_owned()),
        auth_version: Set(1),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| {
        on_unique_violation(e, || {
            AppError::Conflict(format!("a user with email {email} already exists"))
        })
    })?;
    let ttl = match purpose {
        TokenPurpose::Setup => SETUP_TOKEN_TTL,
        TokenPurpose::Invite => INVITE_TOKEN_TTL,
    };
    let token = issue_one_time_token(conn, user.id, purpose, ttl).await?;
    Ok((user, token))
}

async fn issue_one_time_token<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    purpose: TokenPurpose,
    ttl: Duration,
) -> AppResult<OpaqueToken> {
    let token = OpaqueToken::generate();
    let now = Utc::now();
    user_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token.hash.clone()),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Redeems a setup or invite token: sets the password, activates the user, signs them in.
pub async fn redeem_token<C: ConnectionTrait>(
    conn: &C,
    keys: &JwtKeys,
    tenant: &Tenant,
    token: &str,
    purpose: TokenPurpose,
    password: &NewPassword,
) -> AppResult<Session> {
    let invalid = || AppError::bad_input("token", "this token is invalid, used or expired");
    let now = Utc::now();
    let record = user_token::Entity::find()
        .filter(user_token::Column::TokenHash.eq(hash_token(token)))
        .filter(user_token::Column::Purpose.eq(purpose.as_str()))
        .one(conn)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    // Marking the token used is conditional, so two concurrent redemptions cannot both win.
    let claimed = user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(now))
        .filter(user_token::Column::Id.eq(record.id))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let user = user::Entity::find_by_id(record.user_id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if user.status == UserStatus::Deactivated.as_str() {
        return Err(invalid());
    }
    let hash = hash_password(password).await?;
    let user = user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(Some(hash)),
        status: Set(UserStatus::Active.as_str().to_owned()),
        last_login_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(conn)
    .await?;
    start_session(conn, keys, tenant, user, None).await
}

/// Checks an email and password. The caller applies rate limiting around it.
pub async fn login<C: ConnectionTrait>(
    conn: &C,
    keys: &JwtKeys,
    tenant: &Tenant,
    email: &str,
    password: &str,
) -> AppResult<Session> {
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(conn)
        .await?;
    let hash = found
        .as_ref()
        .filter(|u| u.status == UserStatus::Active.as_str())
        .and_then(|u| u.password_hash.as_deref());
    if !verify_password(password, hash).await? {
        return Err(AppError::Unauthenticated("wrong email or password".into()));
    }
    let user = found.ok_or_else(|| AppError::Unauthenticated("wrong email or password".into()))?;
    let now = Utc::now();
    let user = user::ActiveModel {
        id: Set(user.id),
        last_login_at: Set(Some(now)),
        ..Default::default()
    }
    .update(conn)
    .await?;
    start_session(conn, keys, tenant, user, None).await
}

/// Issues an access token and a refresh token, in a new family or in `family`.
async fn start_session<C: ConnectionTrait>(
    conn: &C,
    keys: &JwtKeys,
    tenant: &Tenant,
    user: user::Model,
    family: Option<Uuid>,
) -> AppResult<Session> {
    let role = parse_role(&user.role)?;
    let access = keys.issue_tenant(user.id, tenant.id, role, user.auth_version)?;
    let refresh = OpaqueToken::generate();
    let now = Utc::now();
    let expires_at = now + REFRESH_TOKEN_TTL;
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family.unwrap_or_else(Uuid::now_v7)),
        token_hash: Set(refresh.hash),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(Session {
        access_token: access.token,
        access_token_expires_at: access.expires_at,
        refresh_token: refresh.token,
        refresh_token_expires_at: expires_at,
        user,
    })
}

/// The outcome of presenting a refresh token.
pub enum RefreshOutcome {
    Rotated(Box<Session>),
    /// The token was already rotated or revoked: its family is now revoked. The caller must
    /// commit this before refusing, or the revocation would be lost.
    ReuseDetected,
    Invalid,
}

/// Rotates a refresh token. Presenting a token that was already rotated is treated as theft:
/// the whole family is revoked.
pub async fn refresh<C: ConnectionTrait>(
    conn: &C,
    keys: &JwtKeys,
    tenant: &Tenant,
    token: &str,
) -> AppResult<RefreshOutcome> {
    let now = Utc::now();
    let Some(record) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
        .one(conn)
        .await?
    else {
        return Ok(RefreshOutcome::Invalid);
    };
    if record.rotated_at.is_some() || record.revoked_at.is_some() {
        revoke_family(conn, record.family_id).await?;
        return Ok(RefreshOutcome::ReuseDetected);
    }
    if record.expires_at <= now {
        return Ok(RefreshOutcome::Invalid);
    }
    let rotated = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(record.id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(conn)
        .await?;
    if rotated.rows_affected != 1 {
        revoke_family(conn, record.family_id).await?;
        return Ok(RefreshOutcome::ReuseDetected);
    }
    let user = user::Entity::find_by_id(record.user_id).one(conn).await?;
    match user {
        Some(user) if user.status == UserStatus::Active.as_str() => {
            let session = start_session(conn, keys, tenant, user, Some(record.family_id)).await?;
            Ok(RefreshOutcome::Rotated(Box::new(session)))
        }
        _ => Ok(RefreshOutcome::Invalid),
    }
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> AppResult<()> {
    revoke_where(conn, refresh_token::Column::FamilyId.eq(family_id)).await
}

async fn revoke_user_sessions<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> AppResult<()> {
    revoke_where(conn, refresh_token::Column::UserId.eq(user_id)).await
}

/// Ends every session of the user, access tokens included: their version is no longer the
/// user's. The caller tells [`platform::auth::AccessControl`] once this commits.
async fn end_all_sessions<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> AppResult<()> {
    revoke_user_sessions(conn, user_id).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::AuthVersion,
            Expr::col(user::Column::AuthVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn revoke_where<C: ConnectionTrait>(
    conn: &C,
    which: sea_orm::sea_query::SimpleExpr,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(which)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends the session a refresh token belongs to (its whole family), or, without a token,
/// every session of the user, access tokens included.
pub async fn logout<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    token: Option<&str>,
) -> AppResult<()> {
    match token {
        None => end_all_sessions(conn, principal.user_id).await,
        Some(token) => {
            let record = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
                .filter(refresh_token::Column::UserId.eq(principal.user_id))
                .one(conn)
                .await?
                .ok_or_else(|| AppError::bad_input("refreshToken", "unknown refresh token"))?;
            revoke_family(conn, record.family_id).await
        }
    }
}

pub async fn find_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<user::Model> {
    find_by_id::<user::Entity, _>(conn, id, "user").await
}

/// Invites a user: creates them with the role and returns a one-time invite token.
pub async fn invite<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    email: &Email,
    role: Role,
) -> AppResult<(user::Model, OpaqueToken)> {
    if role == Role::Owner && actor.role != Role::Owner {
        return Err(AppError::Forbidden(
            "only an owner can invite an owner".into(),
        ));
    }
    create_user_with_token(conn, email, role, TokenPurpose::Invite).await
}

pub async fn set_role<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    user_id: Uuid,
    role: Role,
) -> AppResult<user::Model> {
    let target = find_user(conn, user_id).await?;
    let current = parse_role(&target.role)?;
    if target.id == actor.user_id {
        return Err(AppError::Forbidden(
            "you cannot change your own role".into(),
        ));
    }
    if (current == Role::Owner || role == Role::Owner) && actor.role != Role::Owner {
        return Err(AppError::Forbidden(
            "only an owner can grant or remove the owner role".into(),
        ));
    }
    if current == Role::Owner && role != Role::Owner {
        ensure_another_owner(conn, target.id).await?;
    }
    let updated = user::ActiveModel {
        id: Set(target.id),
        role: Set(role.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    // Requests act with the current role, so open sessions take the new one at once; the
    // refresh tokens end too, so the user signs in again knowingly.
    revoke_user_sessions(conn, target.id).await?;
    Ok(updated)
}

pub async fn deactivate<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    user_id: Uuid,
) -> AppResult<user::Model> {
    let target = find_user(conn, user_id).await?;
    if target.id == actor.user_id {
        return Err(AppError::Forbidden("you cannot deactivate yourself".into()));
    }
    if parse_role(&target.role)? == Role::Owner {
        if actor.role != Role::Owner {
            return Err(AppError::Forbidden(
                "only an owner can deactivate an owner".into(),
            ));
        }
        ensure_another_owner(conn, target.id).await?;
    }
    let updated = user::ActiveModel {
        id: Set(target.id),
        status: Set(UserStatus::Deactivated.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    end_all_sessions(conn, target.id).await?;
    user_token::Entity::update_many()
        .col_expr(user_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(user_token::Column::UserId.eq(target.id))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    log::append(
        conn,
        log::NewEvent {
            event_type: crate::USER_DEACTIVATED,
            entity_id: target.id,
            actor: Some(actor.user_id),
            payload: serde_json::json!({"email": updated.email}),
        },
    )
    .await?;
    Ok(updated)
}

async fn ensure_another_owner<C: ConnectionTrait>(conn: &C, except: Uuid) -> AppResult<()> {
    let owners = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Owner.as_str()))
        .filter(user::Column::Status.eq(UserStatus::Active.as_str()))
        .filter(user::Column::Id.ne(except))
        .count(conn)
        .await?;
    if owners == 0 {
        return Err(AppError::Conflict(
            "a tenant must keep at least one active owner".into(),
        ));
    }
    Ok(())
}

/// Users in creation order, keyset-paginated on the UUIDv7 id.
pub async fn list_users<C: ConnectionTrait>(
    conn: &C,
    page: &platform::db::keyset::PageRequest,
) -> AppResult<Vec<user::Model>> {
    use platform::db::keyset::{SortKey, fetch_page};
    fetch_page(
        conn,
        user::Entity::find(),
        page,
        SortKey::Id,
        user::Column::Id,
        false,
    )
    .await
}

pub async fn count_users<C: ConnectionTrait>(conn: &C) -> AppResult<u64> {
    Ok(user::Entity::find().count(conn).await?)
}

/// Sets a user's password directly (operators and the demo; never exposed in the API) and
/// activates them.
pub async fn set_password<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
    password: &NewPassword,
) -> AppResult<user::Model> {
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let hash = hash_password(password).await?;
    let updated = user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(Some(hash)),
        status: Set(UserStatus::Active.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(updated)
}
