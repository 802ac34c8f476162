//! Platform admin rules, shared by the admin GraphQL API and the CLI.

use std::{path::PathBuf, sync::LazyLock};

use chrono::{DateTime, Utc};
use entity::control::{admin_setup_token, platform_admin};
use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use identity::service as users;
use platform::{
    AppContext,
    auth::OpaqueToken,
    auth::Role,
    auth::hash_password,
    auth::hash_token,
    auth::verify_password,
    config::ProvisionFault,
    domain::{Email, NewPassword},
    error::{AppError, AppResult, on_unique_violation},
    tenancy::{Slug, Tenant, TenantStatus},
};

const ADMIN_SETUP_TTL: chrono::Duration = chrono::Duration::days(2);

static DOMAIN_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
        .expect("the domain pattern is a valid regex")
});

/// Subscription plans a tenant can be on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum Plan {
    Free,
    Starter,
    Professional,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Starter => "starter",
            Self::Professional => "professional",
            Self::Enterprise => "enterprise",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "free" => Self::Free,
            "starter" => Self::Starter,
            "professional" => Self::Professional,
            "enterprise" => Self::Enterprise,
            _ => return None,
        })
    }
}

pub struct ProvisionRequest {
    pub slug: String,
    pub name: String,
    pub owner_email: String,
    pub plan: Plan,
}

pub struct Provisioned {
    pub tenant: Tenant,
    /// One-time token with which the owner sets a password (`completeSetup`).
    pub owner_setup_token: String,
    pub setup_token_expires_at: DateTime<Utc>,
}

/// Creates a tenant: claims the slug in the registry, creates its schema or file, runs the
/// tenant migrations, seeds the default pipeline and the owner, then makes it live. If any
/// step fails, the storage and the registry row are removed again.
#[tracing::instrument(skip_all, fields(tenant = %request.slug))]
pub async fn provision_tenant(
    app: &AppContext,
    request: ProvisionRequest,
) -> AppResult<Provisioned> {
    let slug = Slug::parse(request.slug.trim())?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input(
            "name",
            "a tenant name has 1 to 200 characters",
        ));
    }
    let owner_email = Email::parse(&request.owner_email, "ownerEmail")?;
    let tenant = app
        .registry
        .claim(&slug, name, request.plan.as_str(), owner_email.as_str())
        .await?;
    match build_tenant(app, &tenant, &owner_email).await {
        Ok(owner_setup_token) => {
            let activated = app
                .registry
                .set_status(tenant.id, TenantStatus::Active)
                .await;
            let tenant = match activated {
                Ok(tenant) => tenant,
                Err(e) => {
                    undo_provisioning(app, &slug, tenant.id).await;
                    return Err(e);
                }
            };
            app.access.tenant_changed(tenant.id).await;
            tracing::info!("tenant provisioned");
            Ok(Provisioned {
                tenant,
                owner_setup_token,
                setup_token_expires_at: Utc::now() + users::SETUP_TOKEN_TTL,
            })
        }
        Err(e) => {
            undo_provisioning(app, &slug, tenant.id).await;
            Err(e)
        }
    }
}

async fn build_tenant(app: &AppContext, tenant: &Tenant, owner_email: &Email) -> AppResult<String> {
    let tx = app.store.create_tenant_storage(tenant).await?;
    for setup in &app.verticals.tenant_setup {
        setup(&tx).await?;
    }
    let (_, token) =
        users::create_user_with_token(&tx, owner_email, Role::Owner, users::TokenPurpose::Setup)
            .await?;
    if app.config.provision_fault == Some(ProvisionFault::AfterSeed) {
        return Err(AppError::internal(
            "provisioning failure injected by configuration",
        ));
    }
    tx.commit().await?;
    Ok(token.token)
}

async fn undo_provisioning(app: &AppContext, slug: &Slug, tenant_id: Uuid) {
    if let Err(e) = app.store.drop_tenant_storage(slug).await {
        tracing::error!(error = ?e, "could not remove the storage of a failed provisioning");
    }
    if let Err(e) = app.registry.remove(tenant_id).await {
        tracing::error!(error = ?e, "could not remove the registry row of a failed provisioning");
    }
    app.access.tenant_changed(tenant_id).await;
}

pub async fn find_tenant(app: &AppContext, slug: &str) -> AppResult<Tenant> {
    app.registry
        .by_slug(slug.trim())
        .await?
        .filter(|t| t.status != TenantStatus::Provisioning)
        .ok_or(AppError::NotFound("tenant"))
}

pub async fn set_tenant_status(
    app: &AppContext,
    slug: &str,
    status: TenantStatus,
) -> AppResult<Tenant> {
    let tenant = find_tenant(app, slug).await?;
    let updated = app.registry.set_status(tenant.id, status).await?;
    app.access.tenant_changed(tenant.id).await;
    if status == TenantStatus::Active {
        // Its jobs waited while it was suspended: workers look at it again now.
        app.jobs.due(tenant.id, chrono::Utc::now()).await;
    }
    Ok(updated)
}

pub struct DeletedTenant {
    pub slug: String,
    pub backup_path: PathBuf,
}

/// Deletes a tenant after keeping a backup: it stops being served first, then its data and
/// its files are copied, and only then dropped. If the backup fails, the tenant is left as
/// it was.
#[tracing::instrument(skip(app))]
pub async fn delete_tenant(app: &AppContext, slug: &str) -> AppResult<DeletedTenant> {
    let tenant = find_tenant(app, slug).await?;
    let previous = tenant.status;
    app.registry
        .set_status(tenant.id, TenantStatus::Suspended)
        .await?;
    app.access.tenant_changed(tenant.id).await;
    let backup_path = match app
        .store
        .backup_tenant(&tenant, &app.config.backup_dir)
        .await
    {
        Ok(path) => path,
        Err(e) => {
            app.registry.set_status(tenant.id, previous).await?;
            app.access.tenant_changed(tenant.id).await;
            return Err(e);
        }
    };
    // Its files are kept beside the data's copy, then removed with the data.
    let files_backup = backup_path.with_extension("files");
    if let Err(e) = app.files.backup_tenant(tenant.id, &files_backup).await {
        app.registry.set_status(tenant.id, previous).await?;
        app.access.tenant_changed(tenant.id).await;
        return Err(e);
    }
    app.store.drop_tenant_storage(&tenant.slug).await?;
    app.files.delete_tenant(tenant.id).await?;
    app.registry.remove(tenant.id).await?;
    app.access.tenant_changed(tenant.id).await;
    tracing::info!(backup = %backup_path.display(), "tenant deleted");
    Ok(DeletedTenant {
        slug: tenant.slug.to_string(),
        backup_path,
    })
}

fn parse_domain(app: &AppContext, raw: &str) -> AppResult<String> {
    let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.len() > 253 || !DOMAIN_PATTERN.is_match(&domain) {
        return Err(AppError::bad_input(
            "domain",
            format!("{raw:?} is not a domain name"),
        ));
    }
    let base = &app.config.base_domain;
    if domain == *base || domain.ends_with(&format!(".{base}")) {
        return Err(AppError::bad_input(
            "domain",
            format!("domains under {base} are assigned by slug, not registered"),
        ));
    }
    Ok(domain)
}

pub async fn add_domain(app: &AppContext, slug: &str, domain: &str) -> AppResult<Tenant> {
    let domain = parse_domain(app, domain)?;
    let tenant = find_tenant(app, slug).await?;
    app.registry.add_domain(tenant.id, &domain).await?;
    app.access.tenant_changed(tenant.id).await;
    Ok(tenant)
}

pub async fn remove_domain(app: &AppContext, slug: &str, domain: &str) -> AppResult<Tenant> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let tenant = find_tenant(app, slug).await?;
    if !app.registry.remove_domain(tenant.id, &domain).await? {
        return Err(AppError::NotFound("domain"));
    }
    app.access.tenant_changed(tenant.id).await;
    Ok(tenant)
}

/// Creates a platform admin and returns a one-time setup token for them.
pub async fn create_admin(
    app: &AppContext,
    email: &str,
) -> AppResult<(platform_admin::Model, String)> {
    let email = Email::parse(email, "email")?;
    let tx = app.store.control().begin().await?;
    let now = Utc::now();
    let admin = platform_admin::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(None),
        status: Set("pending".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(|e| {
        on_unique_violation(e, || {
            AppError::Conflict(format!("admin {email} already exists"))
        })
    })?;
    let token = OpaqueToken::generate();
    admin_setup_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        admin_id: Set(admin.id),
        token_hash: Set(token.hash),
        expires_at: Set(now + ADMIN_SETUP_TTL),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok((admin, token.token))
}

/// Redeems an admin setup token: sets the password and signs the admin in.
pub async fn complete_admin_setup(
    app: &AppContext,
    token: &str,
    password: &NewPassword,
) -> AppResult<(platform_admin::Model, platform::auth::AccessToken)> {
    let invalid = || AppError::bad_input("token", "this token is invalid, used or expired");
    let now = Utc::now();
    let tx = app.store.control().begin().await?;
    let record = admin_setup_token::Entity::find()
        .filter(admin_setup_token::Column::TokenHash.eq(hash_token(token)))
        .one(&tx)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    let claimed = admin_setup_token::Entity::update_many()
        .col_expr(admin_setup_token::Column::UsedAt, Expr::value(now))
        .filter(admin_setup_token::Column::Id.eq(record.id))
        .filter(admin_setup_token::Column::UsedAt.is_null())
        .exec(&tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let hash = hash_password(password).await?;
    let admin = platform_admin::ActiveModel {
        id: Set(record.admin_id),
        password_hash: Set(Some(hash)),
        status: Set("active".into()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&tx)
    .await?;
    tx.commit().await?;
    let access = app.keys.issue_admin(admin.id)?;
    Ok((admin, access))
}

pub async fn admin_login(
    app: &AppContext,
    email: &str,
    password: &str,
    client: std::net::IpAddr,
) -> AppResult<(platform_admin::Model, platform::auth::AccessToken)> {
    const SCOPE: &str = "platform-admin";
    let attempt = app.login_limiter.attempt(SCOPE, email, client).await?;
    let found = platform_admin::Entity::find()
        .filter(platform_admin::Column::Email.eq(email.trim().to_lowercase()))
        .one(app.store.control())
        .await?;
    let hash = found
        .as_ref()
        .filter(|a| a.status == "active")
        .and_then(|a| a.password_hash.as_deref());
    match found {
        Some(admin) if verify_password(password, hash).await? => {
            attempt.succeeded();
            let access = app.keys.issue_admin(admin.id)?;
            Ok((admin, access))
        }
        other => {
            if other.is_none() {
                // Same cost as a real check, so timing tells nothing about which emails exist.
                verify_password(password, None).await?;
            }
            Err(AppError::Unauthenticated("wrong email or password".into()))
        }
    }
}

pub async fn find_admin(app: &AppContext, id: Uuid) -> AppResult<platform_admin::Model> {
    platform_admin::Entity::find_by_id(id)
        .one(app.store.control())
        .await?
        .filter(|a| a.status == "active")
        .ok_or_else(|| AppError::Unauthenticated("this admin account is not active".into()))
}
