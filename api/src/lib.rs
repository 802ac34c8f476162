//! Nexo: a multi-tenant commercial backend (CRM, sales, support, automation) behind one
//! GraphQL API. [`Application::build`] assembles the server from a [`Config`]; `main.rs`
//! and the integration tests both use it.

pub mod admin;
pub mod auth;
pub mod config;
pub mod crm;
pub mod dashboard;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod private_fs;
pub mod seed;
pub mod telemetry;
pub mod tenancy;

use std::{net::IpAddr, ops::Deref, sync::Arc};

use anyhow::Context;
use async_graphql::ID;
use tokio::net::TcpListener;
use uuid::Uuid;

pub use config::Config;
use error::{AppError, AppResult};

/// The services every request shares. Cheap to clone.
#[derive(Clone)]
pub struct AppContext(Arc<AppContextInner>);

pub struct AppContextInner {
    pub config: Config,
    pub store: tenancy::Store,
    pub registry: tenancy::Registry,
    pub resolver: tenancy::TenantResolver,
    pub keys: auth::JwtKeys,
    /// Who may do what now: users' current roles and status, tenants' current state.
    pub access: auth::AccessControl,
    pub login_limiter: auth::LoginLimiter,
    /// Wakes this instance's subscribers after commits.
    pub events: events::bus::EventBus,
    /// This instance's per-tenant event feeds for subscribers.
    pub feeds: events::follow::Feeds,
    /// This instance's shared live dashboards.
    pub dashboards: dashboard::live::Dashboards,
    /// Open subscriptions per tenant here, and users whose subscriptions must end.
    pub subscriptions: events::slots::Subscriptions,
    /// Live subscriptions whose subscribers share one execution on this instance.
    pub shared_subscriptions: graphql::subscriptions::SharedExecutions,
    /// Opportunities as board changes left them, shared by every board subscriber here.
    pub board_snapshots: moka::future::Cache<(Uuid, Uuid, i64), crm::schema::BoardSnapshot>,
    /// Control-plane migrations this process applied when it started.
    pub control_migrations_applied: usize,
}

impl Deref for AppContext {
    type Target = AppContextInner;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AppContext {
    /// Connects to the database, brings the control plane up to date and loads the signing
    /// key (in development one is created in the data directory when none is configured).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => auth::load_or_create_dev_secret(&config.data_dir)?,
        };
        private_fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let store = tenancy::Store::connect(&config).await?;
        let control_migrations_applied = store
            .migrate_control()
            .await
            .context("migrating the control plane")?;
        let registry = tenancy::Registry::new(store.control().clone());
        // Host lookups are the platform's work, not the request's: outside the count of
        // statements a request runs.
        let resolver = tenancy::TenantResolver::new(
            tenancy::Registry::new(store.control_unmetered().clone()),
            &config.base_domain,
            config.tenant_cache_ttl,
        );
        Ok(Self(Arc::new(AppContextInner {
            keys: auth::JwtKeys::from_secret(secret.as_bytes()),
            access: auth::AccessControl::new(store.clone(), resolver.clone()),
            login_limiter: auth::LoginLimiter::default(),
            events: events::bus::EventBus::default(),
            feeds: events::follow::Feeds::default(),
            dashboards: dashboard::live::Dashboards::default(),
            subscriptions: events::slots::Subscriptions::default(),
            shared_subscriptions: Default::default(),
            board_snapshots: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
            control_migrations_applied,
            config,
            store,
            registry,
            resolver,
        })))
    }
}

impl AppContext {
    /// The signed-in user a bearer token stands for on `tenant` (the tenant its Host
    /// resolved to), as they are now.
    pub async fn authorize_bearer(
        &self,
        tenant: &tenancy::Tenant,
        token: &str,
    ) -> AppResult<auth::Principal> {
        let token = self.keys.verify_tenant(token, tenant.id)?;
        self.access.authorize(tenant, &token).await
    }
}

/// Who sent the request, for rate limiting.
#[derive(Clone, Copy, Debug)]
pub struct ClientInfo {
    pub ip: IpAddr,
}

/// Parses a GraphQL ID argument; an ID that is not one of ours is `BAD_USER_INPUT`.
pub fn parse_id(id: &ID, field: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::bad_input(field, "not a valid ID"))
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    context: AppContext,
}

impl Application {
    /// Builds the context and binds `config.listen` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listen = config.listen;
        let database_url = config.database_url.clone();
        let context = AppContext::build(config).await?;
        if let Some(url) = &database_url {
            events::notify::start(&context, url);
        }
        context.access.start_following();
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        Ok(Self { listener, context })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn context(&self) -> &AppContext {
        &self.context
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = http::router(self.context);
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")
    }
}
