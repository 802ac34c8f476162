//! `nexo-bench`: Nexo's benchmark program. It starts the real server in this process (on
//! SQLite in a temporary directory, or on a PostgreSQL database of its own that it creates
//! and drops), fills a tenant with `nexo seed`'s data, then runs named workloads over HTTP
//! from concurrent clients for a set time and prints a report (and JSON with `--json`).
//!
//! Workloads: `board` (one pipeline, 12 stages x the first 20 opportunities with contact,
//! company, owner and latest activity, and each stage's totals), `contact` (one contact by id
//! with its company), `list` (`contacts(first: 50, filter: {search})`), `write`
//! (`logActivity`), `subscribe` (board and dashboard subscribers while opportunities move).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use api::{AppContext, Application, Config};
use clap::Parser;
use hdrhistogram::Histogram;
use rand::{SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

mod live;

#[derive(Parser, Clone)]
#[command(about = "Runs Nexo's benchmark workloads and prints a report")]
struct Args {
    /// PostgreSQL server to benchmark on (a database is created and dropped); SQLite if unset.
    #[arg(long, env = "NEXO_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Comma-separated workloads: board, contact, list, write, subscribe.
    #[arg(long, default_value = "board,contact,list,write,subscribe")]
    workloads: String,
    /// Seconds per workload.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Opportunities in the 12-stage board pipeline (spread evenly over its stages).
    #[arg(long, default_value_t = 2_400)]
    board_opportunities: usize,
    /// Subscribers of each kind (board and dashboard) for the `subscribe` workload.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Opportunity moves per second during the `subscribe` workload.
    #[arg(long, default_value_t = 20)]
    rate: u64,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(serde::Serialize)]
struct WorkloadReport {
    workload: String,
    requests: u64,
    errors: u64,
    seconds: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    statements_per_request: f64,
}

struct Target {
    client: reqwest::Client,
    url: String,
    host: String,
    token: String,
    app: AppContext,
    pipeline_id: String,
    contact_ids: Vec<String>,
    opportunity_ids: Vec<String>,
}

impl Target {
    async fn post(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = self
            .client
            .post(&self.url)
            .header("Host", &self.host)
            .bearer_auth(&self.token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?
            .json()
            .await?;
        if body.get("errors").is_some() {
            bail!("GraphQL errors: {body}");
        }
        Ok(body)
    }
}

const BOARD: &str = "query($id: ID!) { pipeline(id: $id) { id name stages { id name probability
    opportunities(first: 20) { totalCount totalValue { amount currency } nodes { id title
      value { amount currency } weightedValue { amount currency }
      contact { id fullName email } company { id name } owner { id email }
      latestActivity { id kind subject createdAt } } } } } }";
const CONTACT: &str = "query($id: ID!) { contact(id: $id) { id fullName email phone status
    company { id name domain } } }";
const LIST: &str = "query($s: String!) { contacts(first: 50, filter: {search: $s}) {
    edges { cursor node { id fullName email phone status } } pageInfo { hasNextPage } } }";
const WRITE: &str = "mutation($o: ID!) { logActivity(input: {kind: CALL, subject: \"Bench call\", opportunityId: $o}) { id } }";
/// Search terms: common and rare fragments of names, emails and phones.
const SEARCH_TERMS: &[&str] = &[
    "silva", "garc", "tanaka", "ana.", "@example", "+34910", "zoe", "kowal", "nguyen 1", "okafor.9",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if std::env::var("NEXO_LOG").is_ok() {
        api::telemetry::init(api::config::LogFormat::Pretty);
    }
    let data_dir = tempfile::tempdir()?;
    let database = match &args.database_url {
        Some(url) => Some(BenchDatabase::create(url).await?),
        None => None,
    };
    let mut config = Config::development(data_dir.path());
    config.listen = "127.0.0.1:0".parse()?;
    config.database_url = database.as_ref().map(|d| d.url.clone());
    config.jwt_secret = Some("nexo-bench-signing-key-0123456789abcdef".into());
    config.db_max_connections = 16;
    let application = Application::build(config).await?;
    let port = application.port();
    let app = application.context().clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let setup = Instant::now();
    let target = prepare(&app, port, &args).await?;
    eprintln!(
        "backend {}; tenant seeded with {} contacts and a 12-stage board of {} opportunities in {:.1} s",
        if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        args.contacts,
        args.board_opportunities,
        setup.elapsed().as_secs_f64()
    );
    let target = Arc::new(target);
    let mut reports = Vec::new();
    let mut live_report = None;
    for workload in args
        .workloads
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        if workload == "subscribe" {
            live_report =
                Some(live::run(&target, port, args.subscribers, args.rate, args.duration).await?);
            continue;
        }
        reports.push(run(&target, workload, &args).await?);
    }
    print_table(&reports);
    if let Some(r) = &live_report {
        println!(
            "subscribe: {} board + {} dashboard subscribers, {} moves at {}/s: {} board deliveries, \
             move-to-delivery p50 {:.2} ms p99 {:.2} ms; {:.1} KiB RSS per subscriber (server and \
             client in one process); {:.1} statements/s in all, {:.1} dashboard computations/s",
            r.board_subscribers,
            r.dashboard_subscribers,
            r.mutations,
            args.rate,
            r.deliveries,
            r.p50_ms,
            r.p99_ms,
            r.rss_per_subscriber_kib,
            r.statements_per_second,
            r.dashboard_computations_per_second
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&reports)?)?;
    }
    if let Some(database) = database {
        database.drop().await?;
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| r.errors > 0)
        .map(|r| r.workload.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("workloads with errors: {}", failed.join(", "));
    }
    Ok(())
}

/// Provisions the tenant, seeds it, signs in, and adds the 12-stage board.
async fn prepare(app: &AppContext, port: u16, args: &Args) -> anyhow::Result<Target> {
    use api::admin::service::{Plan, ProvisionRequest, provision_tenant};
    let provisioned = provision_tenant(
        app,
        ProvisionRequest {
            slug: "bench".into(),
            name: "Bench".into(),
            owner_email: "owner@bench.example".into(),
            plan: Plan::Enterprise,
        },
    )
    .await
    .map_err(anyhow::Error::from)?;
    let plan = api::seed::SeedPlan {
        contacts: args.contacts,
        opportunities: args.contacts / 10,
        activities: args.contacts / 2,
        extra_pipelines: 1,
        board: None,
        seed: 7,
    };
    api::seed::seed_tenant(app, "bench", &plan)
        .await
        .map_err(anyhow::Error::from)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let host = "bench.localhost".to_owned();
    let session: Value = client
        .post(&url)
        .header("Host", &host)
        .json(&json!({
            "query": "mutation($t: String!, $p: String!) { completeSetup(token: $t, password: $p) { accessToken } }",
            "variables": {"t": provisioned.owner_setup_token, "p": "bench password 123"}
        }))
        .send()
        .await?
        .json()
        .await?;
    let token = session["data"]["completeSetup"]["accessToken"]
        .as_str()
        .context("signing in")?
        .to_owned();
    let mut target = Target {
        client,
        url,
        host,
        token,
        app: app.clone(),
        pipeline_id: String::new(),
        contact_ids: Vec::new(),
        opportunity_ids: Vec::new(),
    };
    let stages: Vec<Value> = (0..12)
        .map(|i| json!({"name": format!("Stage {i}"), "probability": i * 8}))
        .collect();
    let created = target
        .post(
            "mutation($s: [StageInput!]!) { createPipeline(name: \"Board\", stages: $s) { id stages { id } } }",
            json!({"s": stages}),
        )
        .await?;
    target.pipeline_id = created["data"]["createPipeline"]["id"]
        .as_str()
        .context("pipeline id")?
        .to_owned();
    let stage_ids: Vec<String> = created["data"]["createPipeline"]["stages"]
        .as_array()
        .context("stages")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    let contacts = target
        .post(
            "{ contacts(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    target.contact_ids = contacts["data"]["contacts"]["edges"]
        .as_array()
        .context("contacts")?
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect();
    let mut pending = Vec::new();
    for n in 0..args.board_opportunities {
        let stage = &stage_ids[n % stage_ids.len()];
        let contact = &target.contact_ids[n % target.contact_ids.len()];
        pending.push(format!(
            "o{n}: createOpportunity(input: {{title: \"Board deal {n}\", stageId: \"{stage}\", contactId: \"{contact}\", value: {{amount: \"{}.00\", currency: \"EUR\"}}}}) {{ id }}",
            500 + n
        ));
        if pending.len() == 100 || n + 1 == args.board_opportunities {
            let created = target
                .post(&format!("mutation {{ {} }}", pending.join(" ")), json!({}))
                .await?;
            let ids: Vec<String> = created["data"]
                .as_object()
                .context("created")?
                .values()
                .filter_map(|o| o["id"].as_str().map(str::to_owned))
                .collect();
            let calls: Vec<String> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| format!("a{i}: logActivity(input: {{kind: CALL, subject: \"Intro\", opportunityId: \"{id}\"}}) {{ id }}"))
                .collect();
            target
                .post(&format!("mutation {{ {} }}", calls.join(" ")), json!({}))
                .await?;
            target.opportunity_ids.extend(ids);
            pending.clear();
        }
    }
    Ok(target)
}

async fn run(target: &Arc<Target>, workload: &str, args: &Args) -> anyhow::Result<WorkloadReport> {
    let (query, pick): (&'static str, fn(&Target, &mut StdRng) -> Value) = match workload {
        "board" => (BOARD, |t, _| json!({"id": t.pipeline_id})),
        "contact" => (CONTACT, |t, rng| json!({"id": t.contact_ids.choose(rng)})),
        "list" => (LIST, |_, rng| json!({"s": SEARCH_TERMS.choose(rng)})),
        "write" => (WRITE, |t, rng| json!({"o": t.opportunity_ids.choose(rng)})),
        other => bail!("unknown workload {other:?}: board, contact, list or write"),
    };
    // Warm up: caches, prepared statements, pools.
    for i in 0..20 {
        let mut rng = StdRng::seed_from_u64(i);
        target.post(query, pick(target, &mut rng)).await?;
    }
    let statements_before = target.app.store.statement_count();
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let clients = (0..args.clients).map(|c| {
        let target = target.clone();
        let errors = errors.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(c as u64 + 1);
            let mut histogram =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            while Instant::now() < deadline {
                let variables = pick(&target, &mut rng);
                let sent = Instant::now();
                if target.post(query, variables).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                let _ = histogram.record(sent.elapsed().as_micros().max(1) as u64);
            }
            histogram
        })
    });
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for result in futures::future::join_all(clients).await {
        histogram.add(result?)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let requests = histogram.len();
    let statements = target.app.store.statement_count() - statements_before;
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok(WorkloadReport {
        workload: workload.to_owned(),
        requests,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        requests_per_second: requests as f64 / seconds,
        p50_ms: ms(0.50),
        p95_ms: ms(0.95),
        p99_ms: ms(0.99),
        statements_per_request: statements as f64 / requests.max(1) as f64,
    })
}

fn print_table(reports: &[WorkloadReport]) {
    println!(
        "{:<10} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>12}",
        "workload", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "stmts/req"
    );
    for r in reports {
        println!(
            "{:<10} {:>9} {:>7} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>12.2}",
            r.workload,
            r.requests,
            r.errors,
            r.requests_per_second,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.statements_per_request
        );
    }
}

/// A PostgreSQL database of the benchmark's own.
struct BenchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    async fn create(admin_url: &str) -> anyhow::Result<Self> {
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

    async fn drop(self) -> anyhow::Result<()> {
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
