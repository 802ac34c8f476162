//! Nexo: a multi-tenant commercial backend (CRM, sales, support, automation) behind one
//! GraphQL API. The platform (`platform`) carries what every vertical shares; this crate
//! composes the verticals ([`verticals`]) and serves them over HTTP. [`Application::build`]
//! assembles the server from a [`Config`]; `main.rs` and the integration tests both use it.

pub mod demo;
pub mod http;
pub mod seed;
pub mod verticals;

pub use platform::{
    AppContext, AppContextInner, AttachLoaders, ClientInfo, Metric, MetricKind, TenantSetup,
    Verticals, audit, auth, config, db, domain, error, events, graphql, jobs, outbound, parse_id,
    private_fs, telemetry, tenancy,
};
/// The verticals this server composes.
pub use {admin, crm, dashboard, identity};

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Config;

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
        let context = verticals::context(config).await?;
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
