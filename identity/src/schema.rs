//! The tenant user API: sign-in, sessions, setup and invites, users and roles.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Request, SimpleObject};
use chrono::{DateTime, Utc};
use entity::tenant::user;
use platform::{
    ClientInfo,
    auth::{Role, RoleGuard, parse_role},
    domain::{Email, NewPassword},
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt,
        batching::RequestSpawner,
        load_one,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
    tenancy::TenantTx,
};
use platform::{attach_loaders, by_id};

use crate::service::{self, RefreshOutcome, Session, TokenPurpose};

by_id!(
    /// user id -> the user: every vertical's owners, authors and actors.
    UserById, user
);

/// Puts the user loader on a request.
pub fn attach_loaders(request: Request, tx: &Arc<TenantTx>, spawner: &RequestSpawner) -> Request {
    attach_loaders!(request, tx, spawner, UserById)
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Invited (or, for the first owner, provisioned) but no password set yet.
    Invited,
    Active,
    /// Cannot sign in; sessions ended.
    Deactivated,
}

/// A person who signs in to this tenant.
#[derive(SimpleObject)]
#[graphql(name = "User", serial)]
pub struct UserNode {
    pub id: ID,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl UserNode {
    /// The columns the conversion from a model reads whatever the selection (for
    /// statements that select only what a selection needs).
    pub const ALWAYS_READS: &[&str] = &["role", "status"];
    /// The columns each field reads.
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("email", &["email"]),
        ("name", &["name"]),
        ("role", &[]),
        ("status", &[]),
        ("lastLoginAt", &["last_login_at"]),
        ("createdAt", &["created_at"]),
    ];
}

impl TryFrom<user::Model> for UserNode {
    type Error = AppError;

    fn try_from(model: user::Model) -> AppResult<Self> {
        Ok(Self {
            id: platform::id(model.id),
            role: parse_role(&model.role)?,
            status: match model.status.as_str() {
                "invited" => UserStatus::Invited,
                "active" => UserStatus::Active,
                "deactivated" => UserStatus::Deactivated,
                other => return Err(AppError::internal(format!("unknown user status {other:?}"))),
            },
            email: model.email,
            name: model.name,
            last_login_at: model.last_login_at,
            created_at: model.created_at,
        })
    }
}

/// A signed-in session. Send `accessToken` as `Authorization: Bearer ...`; before it
/// expires, trade `refreshToken` for a new session with `refreshToken`.
#[derive(SimpleObject)]
pub struct AuthSession {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    /// Single use: each refresh returns a new one, and presenting a used one ends the session.
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub user: UserNode,
}

impl TryFrom<Session> for AuthSession {
    type Error = AppError;

    fn try_from(session: Session) -> AppResult<Self> {
        Ok(Self {
            access_token: session.access_token,
            access_token_expires_at: session.access_token_expires_at,
            refresh_token: session.refresh_token,
            refresh_token_expires_at: session.refresh_token_expires_at,
            user: session.user.try_into()?,
        })
    }
}

/// A new user and the one-time token they redeem with `acceptInvite`.
#[derive(SimpleObject)]
pub struct Invitation {
    pub user: UserNode,
    /// Shown once; pass it to the invitee.
    pub invite_token: String,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<UserNode> {
        let principal = ctx.principal()?;
        let user = service::find_user(ctx.conn().await?, principal.user_id).await?;
        Ok(UserNode::try_from(user)?)
    }

    /// This tenant's users, in the order they were created.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Page<UserNode>> {
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = service::list_users(conn, &page).await?;
        let total = total_if_asked(ctx, service::count_users(conn)).await?;
        Ok(page.connection(rows, |u| Cursor::id(u.id), UserNode::try_from, total)?)
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in with email and password. Repeated failures are slowed, then refused with
    /// `RATE_LIMITED`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> GqlResult<AuthSession> {
        let app = ctx.app()?;
        let tx = ctx.tenant_tx()?;
        let client = ctx
            .data::<ClientInfo>()
            .map_err(|_| AppError::internal("client info missing"))?;
        let scope = tx.tenant().id.to_string();
        let attempt = app.login_limiter.attempt(&scope, &email, client.ip).await?;
        let session =
            service::login(tx.conn().await?, &app.keys, tx.tenant(), &email, &password).await?;
        attempt.succeeded();
        Ok(AuthSession::try_from(session)?)
    }

    /// Trades a refresh token for a new session. A token used twice ends its session
    /// everywhere (`UNAUTHENTICATED`).
    async fn refresh_token(&self, ctx: &Context<'_>, token: String) -> GqlResult<AuthSession> {
        let app = ctx.app()?;
        let tx = ctx.tenant_tx()?;
        match service::refresh(tx.conn().await?, &app.keys, tx.tenant(), &token).await? {
            RefreshOutcome::Rotated(session) => Ok(AuthSession::try_from(*session)?),
            RefreshOutcome::ReuseDetected => {
                tx.keep_work_on_error();
                Err(AppError::Unauthenticated(
                    "this refresh token was already used; the session has been ended".into(),
                )
                .into())
            }
            RefreshOutcome::Invalid => Err(AppError::Unauthenticated(
                "the refresh token is invalid or expired".into(),
            )
            .into()),
        }
    }

    /// Ends the session of `refreshToken`, or without it every session of the signed-in
    /// user, their access tokens included.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: Option<String>) -> GqlResult<bool> {
        let principal = ctx.principal()?;
        service::logout(ctx.conn().await?, principal, refresh_token.as_deref()).await?;
        if refresh_token.is_none() {
            access_changes_on_commit(ctx, principal.user_id)?;
        }
        Ok(true)
    }

    /// The first owner sets a password with the setup token printed at provisioning.
    async fn complete_setup(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> GqlResult<AuthSession> {
        redeem(ctx, &token, &password, TokenPurpose::Setup).await
    }

    /// An invited user sets a password with their invite token.
    async fn accept_invite(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> GqlResult<AuthSession> {
        redeem(ctx, &token, &password, TokenPurpose::Invite).await
    }

    /// Invites a user with a role; returns the one-time invite token.
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        role: Role,
    ) -> GqlResult<Invitation> {
        let email = Email::parse(&email, "email")?;
        let principal = ctx.principal()?;
        let (user, token) = service::invite(ctx.conn().await?, principal, &email, role).await?;
        Ok(Invitation {
            user: user.try_into()?,
            invite_token: token.token,
        })
    }

    /// Changes a user's role. It applies at once to every request of theirs; their live
    /// subscriptions end (they subscribe again with the new role) and their refresh tokens
    /// are revoked.
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> GqlResult<UserNode> {
        let user_id = parse_id(&user_id, "userId")?;
        let principal = ctx.principal()?;
        let user = service::set_role(ctx.conn().await?, principal, user_id, role).await?;
        access_changes_on_commit(ctx, user_id)?;
        Ok(UserNode::try_from(user)?)
    }

    /// Deactivates a user: they can no longer sign in, and every session, access token and
    /// live subscription of theirs ends at once.
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn deactivate_user(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<UserNode> {
        let user_id = parse_id(&user_id, "userId")?;
        let principal = ctx.principal()?;
        let user = service::deactivate(ctx.conn().await?, principal, user_id).await?;
        access_changes_on_commit(ctx, user_id)?;
        Ok(UserNode::try_from(user)?)
    }
}

/// Once the request commits, every instance stops trusting what it knew of the user.
fn access_changes_on_commit(ctx: &Context<'_>, user_id: uuid::Uuid) -> AppResult<()> {
    let access = ctx.app()?.access.clone();
    let tx = ctx.tenant_tx()?;
    let tenant = tx.tenant().id;
    tx.after_commit(Box::pin(async move {
        access.user_changed(tenant, user_id).await;
    }));
    Ok(())
}

async fn redeem(
    ctx: &Context<'_>,
    token: &str,
    password: &str,
    purpose: TokenPurpose,
) -> GqlResult<AuthSession> {
    let password = NewPassword::parse(password, "password")?;
    let app = ctx.app()?;
    let tx = ctx.tenant_tx()?;
    let session = service::redeem_token(
        tx.conn().await?,
        &app.keys,
        tx.tenant(),
        token,
        purpose,
        &password,
    )
    .await?;
    Ok(AuthSession::try_from(session)?)
}

/// The user `id` names, through the request's loader.
pub async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> GqlResult<Option<UserNode>> {
    let Some(id) = id else { return Ok(None) };
    Ok(load_one::<UserById, _>(ctx, id)
        .await?
        .map(UserNode::try_from)
        .transpose()?)
}
