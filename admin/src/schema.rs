//! The platform admin GraphQL API.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::service::{self, Plan, ProvisionRequest};
use platform::{
    AppContext, ClientInfo,
    auth::AdminPrincipal,
    domain::NewPassword,
    error::{AppError, AppResult, GqlResult},
    graphql::pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    tenancy::{Tenant, TenantFilter, TenantStatus},
};

fn app<'a>(ctx: &Context<'a>) -> AppResult<&'a AppContext> {
    ctx.data::<AppContext>()
        .map_err(|_| AppError::internal("application context missing"))
}

fn require_admin<'a>(ctx: &Context<'a>) -> AppResult<&'a AdminPrincipal> {
    ctx.data_opt::<AdminPrincipal>()
        .ok_or_else(|| AppError::Unauthenticated("sign in as a platform admin first".into()))
}

/// A company served by this Nexo deployment.
pub struct TenantNode(Tenant);

#[Object(name = "Tenant")]
impl TenantNode {
    async fn id(&self) -> ID {
        platform::id(self.0.id)
    }
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn plan(&self) -> Option<Plan> {
        Plan::parse(&self.0.plan)
    }
    async fn owner_email(&self) -> &str {
        &self.0.owner_email
    }
    async fn status(&self) -> TenantStatus {
        self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn suspended_at(&self) -> Option<DateTime<Utc>> {
        self.0.suspended_at
    }
    /// The tenant's own host: `<slug>.<base domain>`.
    async fn host(&self, ctx: &Context<'_>) -> GqlResult<String> {
        Ok(format!("{}.{}", self.0.slug, app(ctx)?.config.base_domain))
    }
    /// Custom domains that also serve this tenant.
    async fn domains(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(app(ctx)?.registry.domains(self.0.id).await?)
    }
}

#[derive(SimpleObject)]
pub struct PlatformAdmin {
    pub id: ID,
    pub email: String,
}

impl From<entity::control::platform_admin::Model> for PlatformAdmin {
    fn from(model: entity::control::platform_admin::Model) -> Self {
        Self {
            id: platform::id(model.id),
            email: model.email,
        }
    }
}

#[derive(SimpleObject)]
pub struct AdminSession {
    /// Send as `Authorization: Bearer ...` to the admin host; valid 15 minutes.
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub admin: PlatformAdmin,
}

#[derive(InputObject)]
pub struct ProvisionTenantInput {
    /// 3-40 characters: lowercase letters, digits, hyphens; becomes `<slug>.<base domain>`.
    pub slug: String,
    pub name: String,
    /// The first owner; they get a one-time setup token.
    pub owner_email: String,
    #[graphql(default_with = "Plan::Starter")]
    pub plan: Plan,
}

#[derive(SimpleObject)]
pub struct ProvisionTenantPayload {
    pub tenant: TenantNode,
    /// Shown once: the owner redeems it with `completeSetup` on the tenant's host.
    pub owner_setup_token: String,
    pub setup_token_expires_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct DeleteTenantPayload {
    pub slug: String,
    /// Where the copy of the tenant's data was kept before it was dropped.
    pub backup_path: String,
}

#[derive(InputObject, Default)]
pub struct TenantFilterInput {
    pub status: Option<TenantStatus>,
    /// Part of the slug or name.
    pub search: Option<String>,
}

pub struct AdminQuery;

#[Object(name = "Query")]
impl AdminQuery {
    /// The signed-in platform admin.
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<PlatformAdmin> {
        let principal = require_admin(ctx)?;
        Ok(service::find_admin(app(ctx)?, principal.admin_id)
            .await?
            .into())
    }

    /// Tenants in creation order.
    #[graphql(complexity = "platform::graphql::complexity::page(first, last, child_complexity)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TenantFilterInput>,
    ) -> GqlResult<Page<TenantNode>> {
        require_admin(ctx)?;
        let app = app(ctx)?;
        let page = PageRequest::parse(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = TenantFilter {
            status: filter.status,
            search: filter.search,
        };
        let rows = app
            .registry
            .list(
                &filter,
                page.after_id(),
                page.before_id(),
                page.fetch_limit(),
                page.backward,
            )
            .await?;
        let total = total_if_asked(ctx, app.registry.count(&filter)).await?;
        Ok(page.connection(rows, |t| Cursor::id(t.id), |t| Ok(TenantNode(t)), total)?)
    }

    async fn tenant(&self, ctx: &Context<'_>, slug: String) -> GqlResult<TenantNode> {
        require_admin(ctx)?;
        Ok(TenantNode(service::find_tenant(app(ctx)?, &slug).await?))
    }
}

pub struct AdminMutation;

#[Object(name = "Mutation")]
impl AdminMutation {
    async fn admin_login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> GqlResult<AdminSession> {
        let client = ctx
            .data::<ClientInfo>()
            .map_err(|_| AppError::internal("client info missing"))?;
        let (admin, access) = service::admin_login(app(ctx)?, &email, &password, client.ip).await?;
        Ok(AdminSession {
            access_token: access.token,
            access_token_expires_at: access.expires_at,
            admin: admin.into(),
        })
    }

    /// Sets the password of a new platform admin with the token `nexo admin create` printed.
    async fn complete_admin_setup(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> GqlResult<AdminSession> {
        let password = NewPassword::parse(&password, "password")?;
        let (admin, access) = service::complete_admin_setup(app(ctx)?, &token, &password).await?;
        Ok(AdminSession {
            access_token: access.token,
            access_token_expires_at: access.expires_at,
            admin: admin.into(),
        })
    }

    /// Creates a tenant with its schema, default pipeline and owner.
    async fn provision_tenant(
        &self,
        ctx: &Context<'_>,
        input: ProvisionTenantInput,
    ) -> GqlResult<ProvisionTenantPayload> {
        require_admin(ctx)?;
        let provisioned = service::provision_tenant(
            app(ctx)?,
            ProvisionRequest {
                slug: input.slug,
                name: input.name,
                owner_email: input.owner_email,
                plan: input.plan,
            },
        )
        .await?;
        Ok(ProvisionTenantPayload {
            tenant: TenantNode(provisioned.tenant),
            owner_setup_token: provisioned.owner_setup_token,
            setup_token_expires_at: provisioned.setup_token_expires_at,
        })
    }

    /// Stops serving a tenant (`TENANT_SUSPENDED`) without touching its data.
    async fn suspend_tenant(&self, ctx: &Context<'_>, slug: String) -> GqlResult<TenantNode> {
        require_admin(ctx)?;
        Ok(TenantNode(
            service::set_tenant_status(app(ctx)?, &slug, TenantStatus::Suspended).await?,
        ))
    }

    async fn resume_tenant(&self, ctx: &Context<'_>, slug: String) -> GqlResult<TenantNode> {
        require_admin(ctx)?;
        Ok(TenantNode(
            service::set_tenant_status(app(ctx)?, &slug, TenantStatus::Active).await?,
        ))
    }

    /// Deletes a tenant: its data is backed up first, then dropped.
    async fn delete_tenant(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> GqlResult<DeleteTenantPayload> {
        require_admin(ctx)?;
        let deleted = service::delete_tenant(app(ctx)?, &slug).await?;
        Ok(DeleteTenantPayload {
            slug: deleted.slug,
            backup_path: deleted.backup_path.display().to_string(),
        })
    }

    /// Serves the tenant on a custom domain as well.
    async fn add_tenant_domain(
        &self,
        ctx: &Context<'_>,
        slug: String,
        domain: String,
    ) -> GqlResult<TenantNode> {
        require_admin(ctx)?;
        Ok(TenantNode(
            service::add_domain(app(ctx)?, &slug, &domain).await?,
        ))
    }

    async fn remove_tenant_domain(
        &self,
        ctx: &Context<'_>,
        slug: String,
        domain: String,
    ) -> GqlResult<TenantNode> {
        require_admin(ctx)?;
        Ok(TenantNode(
            service::remove_domain(app(ctx)?, &slug, &domain).await?,
        ))
    }
}
