//! Nexo's platform layer: what every vertical (CRM, dashboards, identity, administration,
//! and those to come) builds on and none owns: configuration and errors, tenancy and the
//! request's transaction, the event log, authentication and access control, the GraphQL
//! plumbing and database helpers, and the [`AppContext`] that carries them. See
//! `ARCHITECTURE.md`.

pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod files;
pub mod graphql;
pub mod jobs;
pub mod outbound;
pub mod private_fs;
pub mod telemetry;
pub mod tenancy;

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    net::IpAddr,
    ops::Deref,
    sync::Arc,
};

use anyhow::Context;
use async_graphql::ID;
use uuid::Uuid;

pub use config::Config;
use error::{AppError, AppResult};
#[doc(hidden)]
pub use serde as __serde;

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
    /// Jobs: the handlers the verticals registered, and the bell of this instance's
    /// workers (see [`jobs`]).
    pub jobs: jobs::Jobs,
    /// Tenants' files (see [`files`]).
    pub files: files::Files,
    /// Every call to the outside world goes through it (see [`outbound`]).
    pub outbound: outbound::OutboundClient,
    /// This instance's per-tenant event feeds for subscribers.
    pub feeds: events::follow::Feeds,
    /// Open subscriptions per tenant here, and users whose subscriptions must end.
    pub subscriptions: events::slots::Subscriptions,
    /// Live subscriptions whose subscribers share one execution on this instance.
    pub shared_subscriptions: graphql::subscriptions::SharedExecutions,
    /// What the verticals registered: their state on this instance and their work when a
    /// tenant is created.
    pub verticals: Verticals,
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
    pub async fn build(config: Config, mut verticals: Verticals) -> anyhow::Result<Self> {
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
        let outbound = outbound::OutboundClient::new(&config.outbound)?;
        let files = files::Files::new(&config.files, &config.data_dir, secret.as_bytes())?;
        Ok(Self(Arc::new(AppContextInner {
            keys: auth::JwtKeys::from_secret(secret.as_bytes()),
            outbound,
            files,
            access: auth::AccessControl::new(store.clone(), resolver.clone()),
            login_limiter: auth::LoginLimiter::default(),
            events: events::bus::EventBus::default(),
            feeds: events::follow::Feeds::default(),
            subscriptions: events::slots::Subscriptions::default(),
            // The executions own the list of shareable fields; it is not kept twice.
            shared_subscriptions: graphql::subscriptions::SharedExecutions::new(Arc::new(
                std::mem::take(&mut verticals.shareable_subscriptions),
            )),
            jobs: jobs::Jobs::new(
                std::mem::take(&mut verticals.job_handlers),
                store.control().clone(),
            ),
            verticals,
            control_migrations_applied,
            config,
            store,
            registry,
            resolver,
        })))
    }
}

impl AppContext {
    /// The state vertical `T` registered on this instance.
    pub fn state<T: Any + Send + Sync>(&self) -> AppResult<&T> {
        self.verticals.state.get::<T>().ok_or_else(|| {
            AppError::internal(format!("{} is not registered", std::any::type_name::<T>()))
        })
    }

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

impl AppContext {
    /// The client's address: the peer's, or what trusted proxies (`NEXO_TRUSTED_PROXIES`)
    /// put in `X-Forwarded-For`.
    pub fn client_ip(
        &self,
        headers: &axum::http::HeaderMap,
        peer: std::net::SocketAddr,
    ) -> std::net::IpAddr {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        self.config.trusted_proxies.client(peer.ip(), &forwarded)
    }
}

/// What the verticals bring to the platform, gathered in one place (the composition,
/// the `api` crate's `verticals::registered`).
#[derive(Default)]
pub struct Verticals {
    state: VerticalState,
    /// Root subscription fields whose identical live subscribers share one execution.
    shareable_subscriptions: HashMap<&'static str, graphql::subscriptions::Sharing>,
    /// Put each request's dataloaders on it, in order.
    pub loaders: Vec<AttachLoaders>,
    /// Run in the new tenant's storage transaction when a tenant is created, in order.
    pub tenant_setup: Vec<TenantSetup>,
    /// Served on `/metrics` after the platform's own.
    pub metrics: Vec<Metric>,
    /// Every domain event type the verticals announce.
    event_types: Vec<events::catalog::EventType>,
    /// How an update of each audited kind is reverted.
    revertible: HashMap<audit::AuditEntityType, audit::Revertible>,
    /// How each kind of job is done.
    job_handlers: Vec<jobs::Handler>,
    /// Pages served beside the API without signing in (a quote's public link).
    pub public_routes: Vec<PublicRoutes>,
}

/// A vertical's public pages: every path under `prefix` carries a secret (a link's
/// token), so the request's log names the prefix alone.
pub struct PublicRoutes {
    /// `/q/`: the routes' common start.
    pub prefix: &'static str,
    pub router: fn() -> axum::Router<AppContext>,
}

impl Verticals {
    /// `path` as it may be logged: a public route's path is cut to its prefix.
    pub fn loggable_path<'a>(&self, path: &'a str) -> &'a str {
        match self
            .public_routes
            .iter()
            .find(|routes| path.starts_with(routes.prefix))
        {
            Some(routes) => &path[..routes.prefix.len()],
            None => path,
        }
    }
}

/// A vertical's figure on `/metrics`.
pub struct Metric {
    pub name: &'static str,
    pub kind: MetricKind,
    pub help: &'static str,
    pub value: fn(&AppContext) -> u64,
}

#[derive(Clone, Copy)]
pub enum MetricKind {
    Counter,
    Gauge,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

impl Verticals {
    /// Keeps `state` for the life of the process; [`AppContext::state`] finds it by type.
    pub fn add_state<T: Any + Send + Sync>(&mut self, state: T) {
        self.state.0.insert(TypeId::of::<T>(), Box::new(state));
    }

    /// Lets identical live subscriptions to the root field `field` share one execution.
    pub fn share_subscription(
        &mut self,
        field: &'static str,
        sharing: graphql::subscriptions::Sharing,
    ) {
        self.shareable_subscriptions.insert(field, sharing);
    }

    /// Adds event types to the catalog.
    pub fn announce(&mut self, types: &[events::catalog::EventType]) {
        self.event_types.extend_from_slice(types);
    }

    /// Declares an audited entity: its event types join the catalog, and the revert of its
    /// updates is `revert`.
    pub fn audited<A: audit::Audited>(&mut self, revert: audit::Revertible) {
        self.announce(A::EVENTS);
        self.revertible.insert(A::KIND, revert);
    }

    /// Lets workers do `H`'s jobs.
    pub fn handle<H: jobs::JobHandler>(&mut self) {
        self.job_handlers.push(jobs::Handler::of::<H>());
    }

    /// The catalog: every event type the verticals announce, in registration order.
    pub fn event_types(&self) -> &[events::catalog::EventType] {
        &self.event_types
    }

    /// How an update of `kind` is reverted, when its vertical said.
    pub fn revertible(&self, kind: audit::AuditEntityType) -> Option<&audit::Revertible> {
        self.revertible.get(&kind)
    }
}

/// Puts a vertical's dataloaders on a tenant request, with its transaction and spawner.
pub type AttachLoaders = fn(
    async_graphql::Request,
    &Arc<tenancy::TenantTx>,
    &graphql::batching::RequestSpawner,
) -> async_graphql::Request;

/// A vertical's first data in a new tenant (the CRM's default pipeline).
pub type TenantSetup =
    for<'a> fn(&'a sea_orm::DatabaseTransaction) -> futures::future::BoxFuture<'a, AppResult<()>>;

/// What the verticals keep for the life of the process (caches, live computations), one
/// value per type.
#[derive(Default)]
struct VerticalState(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl VerticalState {
    fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }
}

/// Who sent the request, for rate limiting.
#[derive(Clone, Copy, Debug)]
pub struct ClientInfo {
    pub ip: IpAddr,
}

/// A row's id as a GraphQL `ID`.
pub fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

/// Parses a GraphQL ID argument; an ID that is not one of ours is `BAD_USER_INPUT`.
pub fn parse_id(id: &ID, field: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::bad_input(field, "not a valid ID"))
}
