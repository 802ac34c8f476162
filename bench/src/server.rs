//! The server under test: the real `nexo` binary in a process of its own, so that its CPU
//! time and memory are its own, read from `/proc`, and its statement count from `/metrics`.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Database};

/// Resource use read at one moment; differences between two readings give a phase's cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub server_cpu: f64,
    pub postgres_cpu: f64,
    pub statements: u64,
    pub dashboard_computations: u64,
}

impl std::ops::Sub for Usage {
    type Output = Usage;

    fn sub(self, before: Usage) -> Usage {
        Usage {
            server_cpu: self.server_cpu - before.server_cpu,
            postgres_cpu: self.postgres_cpu - before.postgres_cpu,
            statements: self.statements.saturating_sub(before.statements),
            dashboard_computations: self
                .dashboard_computations
                .saturating_sub(before.dashboard_computations),
        }
    }
}

pub struct Server {
    settings: OwnedSettings,
    child: tokio::process::Child,
    pid: i32,
    pub port: u16,
    metrics_token: String,
    http: reqwest::Client,
    pub log: PathBuf,
}

/// Everything the server and the benchmark's own setup connection share.
pub struct ServerSettings<'a> {
    pub binary: &'a Path,
    pub data_dir: &'a Path,
    pub database_url: Option<&'a str>,
    pub jwt_secret: &'a str,
    pub max_subscriptions_per_tenant: usize,
}

#[derive(Clone)]
struct OwnedSettings {
    binary: PathBuf,
    data_dir: PathBuf,
    database_url: Option<String>,
    jwt_secret: String,
    max_subscriptions_per_tenant: usize,
}

impl OwnedSettings {
    fn borrowed(&self) -> ServerSettings<'_> {
        ServerSettings {
            binary: &self.binary,
            data_dir: &self.data_dir,
            database_url: self.database_url.as_deref(),
            jwt_secret: &self.jwt_secret,
            max_subscriptions_per_tenant: self.max_subscriptions_per_tenant,
        }
    }
}

impl Server {
    /// A new server process on the same data, for measurements that must not inherit the
    /// memory earlier workloads left allocated; this one stops.
    pub async fn fresh(&mut self) -> anyhow::Result<()> {
        let settings = self.settings.clone();
        let new = Server::start(settings.borrowed()).await?;
        std::mem::replace(self, new).stop().await
    }

    pub async fn start(settings: ServerSettings<'_>) -> anyhow::Result<Self> {
        if !settings.binary.exists() {
            bail!(
                "no server binary at {}: build it first (cargo build --release --workspace, which gives nexo the bench-baseline feature) or pass --server",
                settings.binary.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let metrics_token = uuid::Uuid::new_v4().simple().to_string();
        let log = settings.data_dir.join("server.log");
        let mut command = tokio::process::Command::new(settings.binary);
        command
            .arg("serve")
            // No `.env` of the caller's applies.
            .current_dir(settings.data_dir)
            .env("NEXO_ENV", "development")
            .env("NEXO_DATA_DIR", settings.data_dir)
            .env("NEXO_LISTEN", format!("127.0.0.1:{port}"))
            .env("NEXO_JWT_SECRET", settings.jwt_secret)
            .env("NEXO_METRICS_TOKEN", &metrics_token)
            .env("NEXO_LOG_FORMAT", "json")
            .env("NEXO_BENCH_BASELINE", "true")
            .env(
                "NEXO_MAX_SUBSCRIPTIONS_PER_TENANT",
                settings.max_subscriptions_per_tenant.to_string(),
            )
            .env_remove("NEXO_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)?,
            )
            .stderr(std::fs::OpenOptions::new().append(true).open(&log)?)
            .kill_on_drop(true);
        if let Some(url) = settings.database_url {
            command.env("NEXO_DATABASE_URL", url);
        }
        let child = command.spawn().context("starting the server")?;
        let pid = child.id().context("server pid")? as i32;
        let mut server = Self {
            settings: OwnedSettings {
                binary: settings.binary.to_owned(),
                data_dir: settings.data_dir.to_owned(),
                database_url: settings.database_url.map(str::to_owned),
                jwt_secret: settings.jwt_secret.to_owned(),
                max_subscriptions_per_tenant: settings.max_subscriptions_per_tenant,
            },
            child,
            pid,
            port,
            metrics_token,
            http: reqwest::Client::new(),
            log,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                // Its last words say why (a configuration it refused, such as a nexo built
                // without the bench-baseline feature).
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let last_lines = log.lines().rev().take(5).collect::<Vec<_>>();
                bail!(
                    "the server exited ({status}); its log, {}, ends:\n{}",
                    self.log.display(),
                    last_lines.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            let ready = self
                .http
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .send()
                .await;
            if matches!(ready, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the server is not ready after 60 s; its log: {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// The server's resident memory in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<f64> {
        let status = procfs::process::Process::new(self.pid)?.status()?;
        Ok(status.vmrss.unwrap_or_default() as f64)
    }

    /// The server's `/metrics` text, read once per reading of its counters.
    async fn metrics(&self) -> anyhow::Result<Metrics> {
        Ok(Metrics(
            self.http
                .get(format!("http://127.0.0.1:{}/metrics", self.port))
                .bearer_auth(&self.metrics_token)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?,
        ))
    }

    /// CPU seconds so far (user + system) of the server and of all PostgreSQL processes,
    /// and the server's own counters.
    pub async fn usage(&self) -> anyhow::Result<Usage> {
        let metrics = self.metrics().await?;
        Ok(Usage {
            server_cpu: cpu_seconds(&procfs::process::Process::new(self.pid)?)?,
            postgres_cpu: postgres_cpu_seconds(),
            statements: metrics.counter("nexo_sql_statements_total")?,
            dashboard_computations: metrics.counter("nexo_dashboard_computations_total")?,
        })
    }

    pub async fn live_subscriptions(&self) -> anyhow::Result<u64> {
        self.metrics().await?.counter("nexo_live_subscriptions")
    }

    /// Executions serving the live subscriptions (identical ones share one).
    pub async fn subscription_executions(&self) -> anyhow::Result<u64> {
        self.metrics()
            .await?
            .counter("nexo_shared_subscription_executions")
    }

    /// Stops the server as an operator would (SIGTERM: a graceful shutdown), killing it
    /// if it has not stopped within 30 seconds.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            self.child.start_kill()?;
            self.child.wait().await?;
        }
        Ok(())
    }
}

struct Metrics(String);

impl Metrics {
    fn counter(&self, name: &str) -> anyhow::Result<u64> {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{name} missing from /metrics"))
    }
}

fn cpu_seconds(process: &procfs::process::Process) -> anyhow::Result<f64> {
    let stat = process.stat()?;
    Ok((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

/// CPU seconds of every process named `postgres` on this machine (the server's backends,
/// its background workers and the postmaster), for the database's share of a workload.
fn postgres_cpu_seconds() -> f64 {
    let Ok(processes) = procfs::process::all_processes() else {
        return 0.0;
    };
    processes
        .flatten()
        .filter_map(|p| {
            let stat = p.stat().ok()?;
            (stat.comm == "postgres")
                .then(|| (stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
        })
        .sum()
}

/// A PostgreSQL database of the benchmark's own, dropped at the end.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl BenchDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("nexo_bench_{}", uuid::Uuid::new_v4().simple());
        Database::connect(admin_url)
            .await?
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let (base, _) = admin_url
            .rsplit_once('/')
            .context("database URL with a path")?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        Database::connect(&self.admin_url)
            .await?
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}
