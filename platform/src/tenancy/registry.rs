//! The tenant registry in the control plane: tenants, their status and custom domains.

use chrono::Utc;
use entity::control::{tenant, tenant_domain};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::{Slug, Tenant};
use crate::error::{AppError, AppResult, on_unique_violation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum TenantStatus {
    /// Being created; not served yet.
    Provisioning,
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> AppResult<Self> {
        match raw {
            "provisioning" => Ok(Self::Provisioning),
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(AppError::internal(format!(
                "unknown tenant status {other:?}"
            ))),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct TenantFilter {
    pub status: Option<TenantStatus>,
    /// Matches slug or name, case-insensitively.
    pub search: Option<String>,
}

/// Control-plane reads and writes about tenants. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    db: DatabaseConnection,
}

impl Registry {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Claims a slug: inserts the tenant in status `provisioning`. A taken slug is `CONFLICT`.
    pub async fn claim(
        &self,
        slug: &Slug,
        name: &str,
        plan: &str,
        owner_email: &str,
    ) -> AppResult<Tenant> {
        let now = Utc::now();
        let model = tenant::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(slug.as_str().to_owned()),
            name: Set(name.to_owned()),
            plan: Set(plan.to_owned()),
            owner_email: Set(owner_email.to_owned()),
            status: Set(TenantStatus::Provisioning.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            suspended_at: Set(None),
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            on_unique_violation(e, || {
                AppError::Conflict(format!("the slug {slug:?} is taken", slug = slug.as_str()))
            })
        })?;
        model.try_into()
    }

    pub async fn set_status(&self, id: Uuid, status: TenantStatus) -> AppResult<Tenant> {
        let now = Utc::now();
        let model = tenant::ActiveModel {
            id: Set(id),
            status: Set(status.as_str().to_owned()),
            updated_at: Set(now),
            suspended_at: Set((status == TenantStatus::Suspended).then_some(now)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        model.try_into()
    }

    pub async fn remove(&self, id: Uuid) -> AppResult<()> {
        tenant_domain::Entity::delete_many()
            .filter(tenant_domain::Column::TenantId.eq(id))
            .exec(&self.db)
            .await?;
        tenant::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn by_id(&self, id: Uuid) -> AppResult<Option<Tenant>> {
        tenant::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Tenant::try_from)
            .transpose()
    }

    pub async fn by_slug(&self, slug: &str) -> AppResult<Option<Tenant>> {
        tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
            .map(Tenant::try_from)
            .transpose()
    }

    pub async fn by_domain(&self, domain: &str) -> AppResult<Option<Tenant>> {
        let Some(link) = tenant_domain::Entity::find_by_id(domain.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        tenant::Entity::find_by_id(link.tenant_id)
            .one(&self.db)
            .await?
            .map(Tenant::try_from)
            .transpose()
    }

    /// Tenants in creation order (UUIDv7 ids), after `after`, at most `limit`; `backward`
    /// pages the other way from `before`.
    pub async fn list(
        &self,
        filter: &TenantFilter,
        after: Option<Uuid>,
        before: Option<Uuid>,
        limit: u64,
        backward: bool,
    ) -> AppResult<Vec<Tenant>> {
        let mut query = tenant::Entity::find().filter(self.condition(filter));
        if let Some(after) = after {
            query = query.filter(tenant::Column::Id.gt(after));
        }
        if let Some(before) = before {
            query = query.filter(tenant::Column::Id.lt(before));
        }
        let query = if backward {
            query.order_by_desc(tenant::Column::Id)
        } else {
            query.order_by_asc(tenant::Column::Id)
        };
        let mut rows: Vec<Tenant> = query
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Tenant::try_from)
            .collect::<AppResult<_>>()?;
        if backward {
            rows.reverse();
        }
        Ok(rows)
    }

    pub async fn count(&self, filter: &TenantFilter) -> AppResult<u64> {
        Ok(tenant::Entity::find()
            .filter(self.condition(filter))
            .count(&self.db)
            .await?)
    }

    /// Every tenant that is served or suspended (not those still being provisioned).
    pub async fn all_live(&self) -> AppResult<Vec<Tenant>> {
        tenant::Entity::find()
            .filter(tenant::Column::Status.ne(TenantStatus::Provisioning.as_str()))
            .order_by_asc(tenant::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Tenant::try_from)
            .collect()
    }

    pub async fn domains(&self, tenant_id: Uuid) -> AppResult<Vec<String>> {
        Ok(tenant_domain::Entity::find()
            .filter(tenant_domain::Column::TenantId.eq(tenant_id))
            .order_by_asc(tenant_domain::Column::Domain)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| d.domain)
            .collect())
    }

    pub async fn add_domain(&self, tenant_id: Uuid, domain: &str) -> AppResult<()> {
        tenant_domain::ActiveModel {
            domain: Set(domain.to_owned()),
            tenant_id: Set(tenant_id),
            created_at: Set(Utc::now()),
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            on_unique_violation(e, || {
                AppError::Conflict(format!("the domain {domain:?} is already registered"))
            })
        })?;
        Ok(())
    }

    /// Removes a domain of this tenant; `false` if the tenant had no such domain.
    pub async fn remove_domain(&self, tenant_id: Uuid, domain: &str) -> AppResult<bool> {
        let result = tenant_domain::Entity::delete_many()
            .filter(tenant_domain::Column::TenantId.eq(tenant_id))
            .filter(tenant_domain::Column::Domain.eq(domain))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    fn condition(&self, filter: &TenantFilter) -> Condition {
        let mut condition = Condition::all();
        if let Some(status) = filter.status {
            condition = condition.add(tenant::Column::Status.eq(status.as_str()));
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let pattern = format!("%{}%", search.to_lowercase().replace(['%', '_'], ""));
            condition = condition.add(
                Condition::any()
                    .add(tenant::Column::Slug.like(pattern.clone()))
                    .add(Expr::expr(Func::lower(Expr::col(tenant::Column::Name))).like(pattern)),
            );
        }
        condition
    }
}
