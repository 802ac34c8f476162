//! Typed configuration from `NEXO_*` environment variables (and `.env` in development).
//!
//! Every knob the server has is here, with its variable and its default. Production mode
//! refuses defaults for secrets: see [`Config::from_env`].

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};

/// `development` (the default) or `production`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Limits every GraphQL request must stay within; checked before any SQL runs.
#[derive(Clone, Debug)]
pub struct QueryLimits {
    /// `NEXO_MAX_BODY_BYTES`, default 1 MiB.
    pub max_body_bytes: usize,
    /// `NEXO_MAX_DEPTH`, default 12.
    pub max_depth: usize,
    /// `NEXO_MAX_COMPLEXITY`, default 50,000: a point per field, a list's items counted
    /// as many times as it may hold (`first`/`last`, or 10 for a list nothing bounds).
    pub max_complexity: usize,
    /// `NEXO_MAX_RESPONSE_BYTES`, default 16 MiB: a larger answer to a query is refused.
    pub max_response_bytes: usize,
    /// `NEXO_MAX_ALIASES`, default 100.
    pub max_aliases: usize,
    /// `NEXO_MAX_BATCH`, default 10 operations per request.
    pub max_batch: usize,
    /// `NEXO_MAX_INPUT_LIST`, default 1,000: a longer list in a request's variables or
    /// query text is refused before it is validated.
    pub max_input_list: usize,
    /// `NEXO_REQUEST_TIMEOUT_MS`, default 10 s.
    pub request_timeout: Duration,
    /// `NEXO_WEBSOCKET_INIT_TIMEOUT_MS`, default 10 s: a WebSocket that has not sent an
    /// accepted `connection_init` by then is closed (4408).
    pub websocket_init_timeout: Duration,
    /// `NEXO_MAX_SUBSCRIPTIONS_PER_CONNECTION`, default 20.
    pub max_subscriptions_per_connection: usize,
    /// `NEXO_MAX_SUBSCRIPTIONS_PER_TENANT`, default 5000 (on each instance).
    pub max_subscriptions_per_tenant: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 12,
            max_complexity: 50_000,
            max_response_bytes: 16 * 1024 * 1024,
            max_aliases: 100,
            max_batch: 10,
            max_input_list: 1000,
            request_timeout: Duration::from_secs(10),
            websocket_init_timeout: Duration::from_secs(10),
            max_subscriptions_per_connection: 20,
            max_subscriptions_per_tenant: 5000,
        }
    }
}

/// Which peers may tell the client's address in `X-Forwarded-For`. Each proxy appends the
/// address it received from, so the client is found by counting from the right: the
/// leftmost entries are whatever the client wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedProxies {
    None,
    /// This many proxies stand in front of Nexo.
    Hops(usize),
    /// The proxies' addresses.
    Networks(Vec<ipnet::IpNet>),
}

impl TrustedProxies {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if let Ok(hops) = raw.parse::<usize>() {
            return Ok(if hops == 0 {
                Self::None
            } else {
                Self::Hops(hops)
            });
        }
        raw.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| {
                        format!("NEXO_TRUSTED_PROXIES: {entry:?} is neither a hop count nor a CIDR")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(Self::Networks)
    }

    /// The client's address, given the peer's and the `X-Forwarded-For` entries in order.
    pub fn client(&self, peer: std::net::IpAddr, forwarded: &[&str]) -> std::net::IpAddr {
        let parsed = |entry: &str| entry.trim().parse::<std::net::IpAddr>().ok();
        match self {
            Self::None => peer,
            Self::Hops(hops) => {
                // The peer is the nearest proxy; each further one added an entry.
                forwarded
                    .len()
                    .checked_sub(*hops)
                    .and_then(|i| parsed(forwarded[i]))
                    .unwrap_or(peer)
            }
            Self::Networks(networks) => {
                let trusted = |ip: &std::net::IpAddr| networks.iter().any(|n| n.contains(ip));
                let mut client = peer;
                for entry in forwarded.iter().rev() {
                    if !trusted(&client) {
                        break;
                    }
                    match parsed(entry) {
                        Some(ip) => client = ip,
                        None => break,
                    }
                }
                client
            }
        }
    }
}

/// A step of provisioning at which a test can make it fail, to prove that a failure half
/// way leaves nothing behind. Never set from the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionFault {
    /// Fail after the tenant's tables exist and its data is seeded, just before it goes live.
    AfterSeed,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `NEXO_ENV`.
    pub environment: Environment,
    /// `NEXO_DATABASE_URL`: a `postgres://` URL selects PostgreSQL; unset selects SQLite.
    pub database_url: Option<String>,
    /// `NEXO_DATA_DIR`, default `./data`: SQLite files, the development JWT key, backups.
    pub data_dir: PathBuf,
    /// `NEXO_BACKUP_DIR`, default `<data dir>/backups`: copies kept when a tenant is deleted.
    pub backup_dir: PathBuf,
    /// `NEXO_BASE_DOMAIN`, default `localhost`: tenants live at `<slug>.<base domain>`.
    pub base_domain: String,
    /// `NEXO_LISTEN`, default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `NEXO_JWT_SECRET`: required in production, at least 32 bytes.
    pub jwt_secret: Option<String>,
    /// `NEXO_LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_format: LogFormat,
    /// `NEXO_DB_MAX_CONNECTIONS`, default 16: the shared PostgreSQL pool.
    pub db_max_connections: u32,
    /// `NEXO_PG_RANDOM_PAGE_COST`, default 1.1 (`server` keeps the server's setting): the
    /// planner's cost of a random page read on Nexo's tenant connections. PostgreSQL's 4.0
    /// assumes spinning disks; with it, a tenant's small, cached tables are scanned whole
    /// inside nested loops instead of through their indexes (the board's latest activity
    /// per opportunity took 4 ms instead of 0.3 ms on a 240-activity tenant).
    pub pg_random_page_cost: Option<f64>,
    /// `NEXO_SQLITE_IDLE_SECS`, default 300: an unused tenant's SQLite pool is closed after this.
    pub sqlite_idle: Duration,
    /// `NEXO_TENANT_CACHE_SECS`, default 30: how long a resolved host is trusted before the
    /// control plane is asked again (changes made on this instance apply at once).
    pub tenant_cache_ttl: Duration,
    /// `NEXO_TRUSTED_PROXIES`: the reverse proxies in front of Nexo, as a hop count (`1`)
    /// or their CIDRs (`10.0.0.0/8,192.168.1.7/32`); unset, the peer address is the client.
    pub trusted_proxies: TrustedProxies,
    /// `NEXO_MIGRATE_CONCURRENCY`, default 4: tenants migrated at once by `nexo migrate`.
    pub migrate_concurrency: usize,
    /// `NEXO_METRICS_TOKEN`: bearer token `/metrics` asks for; without it `/metrics` is
    /// open in development and absent in production.
    pub metrics_token: Option<String>,
    /// `NEXO_BENCH_BASELINE`: serve `nexo-bench`'s raw-SQL baseline routes
    /// (`/baseline/board`, `/baseline/contact`); refused in production and by a build
    /// without the `bench-baseline` feature.
    pub bench_baseline: bool,
    pub limits: QueryLimits,
    /// `NEXO_OUTBOUND_*`: calls to the outside world.
    pub outbound: crate::outbound::OutboundConfig,
    /// `NEXO_JOB_*`: this process's job workers.
    pub jobs: crate::jobs::WorkerConfig,
    /// `NEXO_FILES_*`, `NEXO_MAX_UPLOAD_BYTES`: tenants' files.
    pub files: crate::files::FilesConfig,
    pub provision_fault: Option<ProvisionFault>,
}

impl Config {
    /// Configuration for development on `data_dir`, with every default.
    pub fn development(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            environment: Environment::Development,
            database_url: None,
            backup_dir: data_dir.join("backups"),
            data_dir,
            base_domain: "localhost".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: None,
            log_format: LogFormat::Pretty,
            db_max_connections: 16,
            pg_random_page_cost: Some(1.1),
            sqlite_idle: Duration::from_secs(300),
            tenant_cache_ttl: Duration::from_secs(30),
            trusted_proxies: TrustedProxies::None,
            migrate_concurrency: 4,
            metrics_token: None,
            bench_baseline: false,
            limits: QueryLimits::default(),
            outbound: crate::outbound::OutboundConfig::default(),
            jobs: crate::jobs::WorkerConfig::default(),
            files: crate::files::FilesConfig::default(),
            provision_fault: None,
        }
    }

    /// Reads `NEXO_*` variables; a `.env` file is read first outside production.
    pub fn from_env() -> anyhow::Result<Self> {
        if var("NEXO_ENV").as_deref() != Some("production") {
            let _ = dotenvy::dotenv();
        }
        let environment = match var("NEXO_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => bail!("NEXO_ENV must be development or production, not {other:?}"),
        };
        let data_dir = PathBuf::from(var("NEXO_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let mut config = Self::development(data_dir);
        config.environment = environment;
        config.database_url = var("NEXO_DATABASE_URL");
        if let Some(dir) = var("NEXO_BACKUP_DIR") {
            config.backup_dir = dir.into();
        }
        if let Some(domain) = var("NEXO_BASE_DOMAIN") {
            config.base_domain = domain.trim_matches('.').to_ascii_lowercase();
        }
        if let Some(listen) = var("NEXO_LISTEN") {
            config.listen = listen
                .parse()
                .with_context(|| format!("NEXO_LISTEN {listen:?} is not an address:port"))?;
        }
        config.jwt_secret = var("NEXO_JWT_SECRET");
        config.metrics_token = var("NEXO_METRICS_TOKEN");
        config.bench_baseline = parse_var("NEXO_BENCH_BASELINE", false)?;
        config.log_format = match var("NEXO_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("NEXO_LOG_FORMAT must be pretty or json, not {other:?}"),
        };
        config.db_max_connections =
            parse_var("NEXO_DB_MAX_CONNECTIONS", config.db_max_connections)?;
        config.pg_random_page_cost = match var("NEXO_PG_RANDOM_PAGE_COST").as_deref().map(str::trim)
        {
            None => config.pg_random_page_cost,
            Some("server") => None,
            Some(raw) => match raw.parse::<f64>() {
                Ok(cost) if cost.is_finite() && cost > 0.0 => Some(cost),
                _ => bail!(
                    "NEXO_PG_RANDOM_PAGE_COST={raw:?} is not valid: a positive number, or `server`"
                ),
            },
        };
        config.sqlite_idle = Duration::from_secs(parse_var("NEXO_SQLITE_IDLE_SECS", 300)?);
        config.tenant_cache_ttl = Duration::from_secs(parse_var("NEXO_TENANT_CACHE_SECS", 30)?);
        if var("NEXO_TRUST_PROXY").is_some() {
            bail!(
                "NEXO_TRUST_PROXY is replaced by NEXO_TRUSTED_PROXIES: the number of proxies in \
                 front of Nexo, or their CIDRs"
            );
        }
        config.trusted_proxies = match var("NEXO_TRUSTED_PROXIES") {
            None => TrustedProxies::None,
            Some(raw) => TrustedProxies::parse(&raw)?,
        };
        config.migrate_concurrency = parse_var("NEXO_MIGRATE_CONCURRENCY", 4usize)?.max(1);
        let limits = &mut config.limits;
        limits.max_body_bytes = parse_var("NEXO_MAX_BODY_BYTES", limits.max_body_bytes)?;
        limits.max_depth = parse_var("NEXO_MAX_DEPTH", limits.max_depth)?;
        limits.max_complexity = parse_var("NEXO_MAX_COMPLEXITY", limits.max_complexity)?;
        limits.max_response_bytes =
            parse_var("NEXO_MAX_RESPONSE_BYTES", limits.max_response_bytes)?;
        limits.max_aliases = parse_var("NEXO_MAX_ALIASES", limits.max_aliases)?;
        limits.max_batch = parse_var("NEXO_MAX_BATCH", limits.max_batch)?;
        limits.max_input_list = parse_var("NEXO_MAX_INPUT_LIST", limits.max_input_list)?;
        limits.request_timeout =
            Duration::from_millis(parse_var("NEXO_REQUEST_TIMEOUT_MS", 10_000u64)?);
        limits.websocket_init_timeout =
            Duration::from_millis(parse_var("NEXO_WEBSOCKET_INIT_TIMEOUT_MS", 10_000u64)?);
        limits.max_subscriptions_per_connection = parse_var(
            "NEXO_MAX_SUBSCRIPTIONS_PER_CONNECTION",
            limits.max_subscriptions_per_connection,
        )?;
        limits.max_subscriptions_per_tenant = parse_var(
            "NEXO_MAX_SUBSCRIPTIONS_PER_TENANT",
            limits.max_subscriptions_per_tenant,
        )?;
        let outbound = &mut config.outbound;
        outbound.timeout = Duration::from_millis(parse_var(
            "NEXO_OUTBOUND_TIMEOUT_MS",
            outbound.timeout.as_millis() as u64,
        )?);
        outbound.max_response_bytes = parse_var(
            "NEXO_OUTBOUND_MAX_RESPONSE_BYTES",
            outbound.max_response_bytes,
        )?;
        if let Some(raw) = var("NEXO_OUTBOUND_ALLOW") {
            outbound.allow = crate::outbound::OutboundConfig::parse_allow(&raw)?;
        }
        let jobs = &mut config.jobs;
        jobs.workers = parse_var("NEXO_JOB_WORKERS", jobs.workers)?;
        jobs.per_tenant = parse_var("NEXO_JOB_TENANT_CONCURRENCY", jobs.per_tenant)?.max(1);
        jobs.sweep_interval = Duration::from_secs(parse_var(
            "NEXO_JOB_SWEEP_SECS",
            jobs.sweep_interval.as_secs(),
        )?);
        let files = &mut config.files;
        files.max_upload_bytes = parse_var("NEXO_MAX_UPLOAD_BYTES", files.max_upload_bytes)?;
        files.url_ttl = Duration::from_secs(parse_var(
            "NEXO_FILE_URL_TTL_SECS",
            files.url_ttl.as_secs(),
        )?);
        files.dir = var("NEXO_FILES_DIR").map(PathBuf::from);
        if let Some(bucket) = var("NEXO_FILES_S3_BUCKET") {
            let required = |name: &str| {
                var(name).with_context(|| format!("{name} is required with NEXO_FILES_S3_BUCKET"))
            };
            files.s3 = Some(crate::files::S3Config {
                bucket,
                region: var("NEXO_FILES_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                endpoint: var("NEXO_FILES_S3_ENDPOINT"),
                access_key_id: required("NEXO_FILES_S3_ACCESS_KEY_ID")?,
                secret_access_key: required("NEXO_FILES_S3_SECRET_ACCESS_KEY")?,
            });
        }
        config.validate()?;
        Ok(config)
    }

    /// Refuses configurations that must not run: production without a real secret.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            bail!("NEXO_JWT_SECRET must be at least 32 bytes long");
        }
        if self.bench_baseline && !cfg!(feature = "bench-baseline") {
            bail!(
                "NEXO_BENCH_BASELINE needs a nexo built with the bench-baseline feature \
                 (cargo build --workspace builds it for nexo-bench)"
            );
        }
        if self.is_production() && self.bench_baseline {
            bail!(
                "NEXO_BENCH_BASELINE is for benchmarks and cannot be set when NEXO_ENV=production"
            );
        }
        if self.is_production() && self.jwt_secret.is_none() {
            bail!("NEXO_JWT_SECRET is required when NEXO_ENV=production");
        }
        if self.is_production()
            && let Some(secret) = &self.jwt_secret
            && estimated_entropy_bits(secret) < MIN_SECRET_BITS
        {
            bail!(
                "NEXO_JWT_SECRET looks guessable (about {:.0} bits; at least {MIN_SECRET_BITS} \
                 are needed in production): use a random one, e.g. `openssl rand -hex 32`",
                estimated_entropy_bits(secret)
            );
        }
        if let Some(url) = &self.database_url
            && !is_postgres_url(url)
        {
            bail!("NEXO_DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)");
        }
        Ok(())
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The host that serves the platform admin API.
    pub fn admin_host(&self) -> String {
        format!("admin.{}", self.base_domain)
    }
}

/// The least a production signing key must be estimated to hold.
const MIN_SECRET_BITS: f64 = 128.0;

/// An upper estimate of a secret's entropy: its length times the Shannon entropy of its
/// characters' frequencies. A random hex or base64 key of 32 bytes scores well over 128; a
/// repeated character, a short pattern or a word scores far less.
fn estimated_entropy_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in secret.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let length = secret.chars().count() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / length;
            -p * p.log2()
        })
        .sum();
    per_char * length
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
    }
}

#[cfg(test)]
mod trusted_proxies_tests {
    use super::TrustedProxies;

    fn ip(raw: &str) -> std::net::IpAddr {
        raw.parse().expect("an address")
    }

    #[test]
    fn the_client_is_counted_from_the_right() {
        let peer = ip("10.0.0.2");
        let forwarded = ["6.6.6.6", "203.0.113.4", "10.0.0.1"];
        assert_eq!(TrustedProxies::None.client(peer, &forwarded), peer);
        assert_eq!(
            TrustedProxies::Hops(1).client(peer, &forwarded),
            ip("10.0.0.1")
        );
        assert_eq!(
            TrustedProxies::Hops(2).client(peer, &forwarded),
            ip("203.0.113.4")
        );
        // Fewer entries than proxies: the request did not come through them all.
        assert_eq!(TrustedProxies::Hops(4).client(peer, &forwarded), peer);
        let networks = TrustedProxies::parse("10.0.0.0/8").expect("parses");
        assert_eq!(networks.client(peer, &forwarded), ip("203.0.113.4"));
        assert_eq!(
            networks.client(ip("198.51.100.1"), &forwarded),
            ip("198.51.100.1"),
            "an untrusted peer is the client, whatever it forwards"
        );
        assert_eq!(
            networks.client(peer, &["garbage", "10.0.0.1"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn parses_hops_addresses_and_networks() {
        assert_eq!(TrustedProxies::parse("0").ok(), Some(TrustedProxies::None));
        assert_eq!(
            TrustedProxies::parse("2").ok(),
            Some(TrustedProxies::Hops(2))
        );
        assert!(matches!(
            TrustedProxies::parse("10.0.0.0/8, 192.168.1.7"),
            Ok(TrustedProxies::Networks(n)) if n.len() == 2
        ));
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }
}

#[cfg(test)]
mod secret_tests {
    use super::{Config, Environment};

    fn production_with(secret: &str) -> anyhow::Result<()> {
        let mut config = Config::development("/nonexistent");
        config.environment = Environment::Production;
        config.jwt_secret = Some(secret.into());
        config.validate()
    }

    #[test]
    fn production_refuses_a_guessable_secret() {
        assert!(production_with(&"a".repeat(32)).is_err());
        assert!(production_with(&"ab".repeat(40)).is_err());
        assert!(
            production_with("0123456789abcdef0123456789abcde").is_err(),
            "too short"
        );
        // `openssl rand -hex 32`
        production_with("3f1c9a7be20d45c8a6f0b1e2d3c4a5968778695a4b3c2d1e0f9e8d7c6b5a4938")
            .expect("a random key is accepted");
        // Development takes what it is given (tests and demos use fixed keys).
        let mut development = Config::development("/nonexistent");
        development.jwt_secret = Some("a".repeat(32));
        development.validate().expect("development accepts it");
    }
}
