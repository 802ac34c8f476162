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
    Verticals, audit, auth, config, db, domain, error, events, files, graphql, jobs, outbound,
    parse_id, private_fs, telemetry, tenancy,
};
/// The verticals this server composes.
pub use {admin, crm, dashboard, identity};

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Config;

/// The context of a long-running process, listening to other instances on PostgreSQL.
async fn start_context(
    config: Config,
    extra: impl FnOnce(&mut Verticals),
) -> anyhow::Result<AppContext> {
    let database_url = config.database_url.clone();
    let context = verticals::context_with(config, extra).await?;
    if let Some(url) = &database_url {
        events::notify::start(&context, url);
    }
    Ok(context)
}

/// Job workers without the HTTP server (`nexo worker`), to scale them apart: runs until
/// `shutdown` resolves. Workers are configured as in `nexo serve` (`NEXO_JOB_*`).
pub async fn run_workers(
    config: Config,
    extra: impl FnOnce(&mut Verticals),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if config.jobs.workers == 0 {
        anyhow::bail!("NEXO_JOB_WORKERS is 0: this worker would run no jobs");
    }
    let context = start_context(config, extra).await?;
    let workers = jobs::worker::start(&context);
    shutdown.await;
    if let Some(workers) = workers {
        workers.abort();
    }
    Ok(())
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    context: AppContext,
}

impl Application {
    /// Builds the context, starts the job workers (`NEXO_JOB_WORKERS`) and binds
    /// `config.listen` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, |_| {}).await
    }

    /// [`Application::build`] with `extra` registered after the verticals.
    pub async fn build_with(
        config: Config,
        extra: impl FnOnce(&mut Verticals),
    ) -> anyhow::Result<Self> {
        let listen = config.listen;
        let context = start_context(config, extra).await?;
        context.access.start_following();
        jobs::worker::start(&context);
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
