//! Host header -> tenant (or the admin API), cached.
//!
//! `<slug>.<base domain>` names a tenant by slug, `admin.<base domain>` the platform admin
//! API, and any other host is looked up among the tenants' custom domains. Lookups, found or
//! not, are cached for `NEXO_TENANT_CACHE_SECS`; a change to a tenant (suspend, delete, a
//! domain removed), wherever it was made, is forgotten here within a second
//! ([`crate::auth::AccessControl`] tells).

use std::sync::Arc;

use super::{Registry, Tenant, TenantStatus};
use crate::error::{AppError, AppResult};

/// What a request's Host addresses.
#[derive(Clone, Debug)]
pub enum HostTarget {
    Admin,
    Tenant(Arc<Tenant>),
}

#[derive(Clone)]
pub struct TenantResolver {
    registry: Registry,
    base_domain: String,
    admin_host: String,
    cache: moka::future::Cache<String, Option<Arc<Tenant>>>,
}

impl TenantResolver {
    pub fn new(registry: Registry, base_domain: &str, ttl: std::time::Duration) -> Self {
        Self {
            registry,
            base_domain: base_domain.to_owned(),
            admin_host: format!("admin.{base_domain}"),
            cache: moka::future::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(100_000)
                .support_invalidation_closures()
                .build(),
        }
    }

    /// Resolves a raw Host header value. Suspended tenants are refused here, so nothing
    /// downstream ever serves one.
    pub async fn resolve(&self, raw_host: &str) -> AppResult<HostTarget> {
        let host = normalize_host(raw_host);
        if host == self.admin_host {
            return Ok(HostTarget::Admin);
        }
        let tenant = self.lookup(&host).await?.ok_or(AppError::TenantNotFound)?;
        match tenant.status {
            TenantStatus::Active => Ok(HostTarget::Tenant(tenant)),
            TenantStatus::Suspended => Err(AppError::TenantSuspended),
            TenantStatus::Provisioning => Err(AppError::TenantNotFound),
        }
    }

    /// The tenant now served under `tenant`'s slug, if it is still that same tenant (by
    /// id) and active: a long-lived session checks this before each operation, so that a
    /// tenant deleted and provisioned again under its slug is never reached from before.
    pub async fn current(&self, tenant: &Tenant) -> AppResult<Arc<Tenant>> {
        let host = format!("{}.{}", tenant.slug.as_str(), self.base_domain);
        match self.lookup(&host).await? {
            Some(current) if current.id == tenant.id => match current.status {
                TenantStatus::Active => Ok(current),
                TenantStatus::Suspended => Err(AppError::TenantSuspended),
                TenantStatus::Provisioning => Err(AppError::TenantNotFound),
            },
            _ => Err(AppError::TenantNotFound),
        }
    }

    async fn lookup(&self, host: &str) -> AppResult<Option<Arc<Tenant>>> {
        let registry = self.registry.clone();
        let slug = host
            .strip_suffix(&self.base_domain)
            .and_then(|prefix| prefix.strip_suffix('.'))
            .filter(|label| !label.is_empty() && !label.contains('.'))
            .map(str::to_owned);
        let domain = host.to_owned();
        self.cache
            .try_get_with(host.to_owned(), async move {
                let found = match slug {
                    Some(slug) => registry.by_slug(&slug).await?,
                    None => registry.by_domain(&domain).await?,
                };
                Ok::<_, AppError>(found.map(Arc::new))
            })
            .await
            .map_err(|e| AppError::internal(format!("resolving tenant: {}", e.message())))
    }

    /// Forgets what was cached of `tenant` and every host that named no tenant (it may
    /// name this one now).
    pub fn forget(&self, tenant: uuid::Uuid) {
        let forgotten = self.cache.invalidate_entries_if(move |_, found| {
            found.as_ref().is_none_or(|found| found.id == tenant)
        });
        if forgotten.is_err() {
            self.cache.invalidate_all();
        }
    }
}

/// Lowercases and strips the port and a trailing dot: `Acme.Localhost.:8080` -> `acme.localhost`.
fn normalize_host(raw: &str) -> String {
    let host = raw.trim();
    let without_port = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn normalizes_hosts() {
        assert_eq!(normalize_host("Acme.Localhost:8080"), "acme.localhost");
        assert_eq!(normalize_host("crm.example.com."), "crm.example.com");
        assert_eq!(normalize_host("admin.localhost"), "admin.localhost");
    }
}
