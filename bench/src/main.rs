//! `nexo-bench`: Nexo's benchmark program. It starts the real `nexo` server in a process of
//! its own (SQLite in a temporary directory, or a PostgreSQL database it creates and drops),
//! fills tenants with `nexo seed`'s data, runs named workloads over HTTP and WebSocket, and
//! prints a report (and JSON with `--json`).
//!
//! Each request workload runs twice: closed loop from `--clients` clients to find the
//! saturation rate, then open loop at half that rate for the latency. CPU time comes from
//! `/proc` for the server and for PostgreSQL's processes, statements from the server's
//! `/metrics`.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use api::{AppContext, Config};
use clap::Parser;
use entity::tenant::{activity, invoice};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

mod abuse;
mod fixtures;
mod jobs;
mod live;
mod load;
mod sales;
mod server;

use fixtures::{BenchTenant, Client, MainTenant};
use load::{Phase, Request};
use server::{BenchDatabase, Server, ServerSettings, Usage};

const ALL_WORKLOADS: &str =
    "board,contact,list,write,quote,issue,tenants,provision,abuse,subscribe,idle,jobs";

#[derive(Parser, Clone)]
#[command(
    about = "Runs Nexo's benchmark workloads against a nexo server process and prints a report"
)]
struct Args {
    /// PostgreSQL server to benchmark on (a database is created and dropped); SQLite if unset.
    #[arg(long, env = "NEXO_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// The `nexo` binary to run (default: the one next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Comma-separated workloads.
    #[arg(long, default_value = ALL_WORKLOADS)]
    workloads: String,
    /// Seconds per phase (each request workload has a closed-loop and an open-loop phase).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Concurrent clients of the closed-loop phase.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Contacts in the main tenant.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Opportunities in each of the board's 12 stages.
    #[arg(long, default_value_t = 20)]
    board_per_stage: usize,
    /// Tenants of the `tenants` workload (each with the same board).
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Subscribers of each kind (board and dashboard) for the `subscribe` workload.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Opportunity moves per second during the `subscribe` workload.
    #[arg(long, default_value_t = 20)]
    rate: u64,
    /// Idle subscriptions held by the `idle` workload, spread over `--idle-tenants`.
    #[arg(long, default_value_t = 10_000)]
    idle_subscriptions: usize,
    #[arg(long, default_value_t = 100)]
    idle_tenants: usize,
    /// Kinds of idle subscription, taken in turn: events, board, dashboard (identical ones
    /// share an execution), resume (events after a cursor: each runs alone).
    #[arg(long, default_value = "events,board,dashboard")]
    idle_kinds: String,
    /// No-op jobs tenant A queues in the `jobs` workload (tenants B-J queue 10 each).
    #[arg(long, default_value_t = 100_000)]
    jobs: usize,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One request workload's figures.
#[derive(serde::Serialize, Default, Clone)]
struct Row {
    workload: String,
    /// Closed loop, `--clients` clients.
    saturation_rps: f64,
    requests_per_server_cpu_second: f64,
    /// Server plus PostgreSQL (the server alone on SQLite).
    requests_per_cpu_second: f64,
    statements_per_request: f64,
    /// Open loop at half the saturation rate.
    open_loop_rate: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    errors: u64,
    server_rss_mib: f64,
}

#[derive(serde::Serialize)]
struct Report {
    date: String,
    machine: String,
    backend: &'static str,
    command: String,
    rows: Vec<Row>,
    notes: Vec<String>,
}

struct Bench {
    args: Args,
    client: Arc<Client>,
    server: Server,
    setup: AppContext,
    postgres: bool,
    rows: Vec<Row>,
    notes: Vec<String>,
    failures: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("nexo"),
    };
    let data_dir = tempfile::tempdir()?;
    let database = match &args.database_url {
        Some(url) => Some(BenchDatabase::create(url).await?),
        None => None,
    };
    let result = run(&args, &binary, data_dir.path(), database.as_ref()).await;
    if let Some(database) = database {
        database.drop().await?;
    }
    result
}

async fn run(
    args: &Args,
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    database: Option<&BenchDatabase>,
) -> anyhow::Result<()> {
    let jwt_secret = format!("nexo-bench-{}", uuid::Uuid::new_v4().simple());
    // The benchmark's own connection to the server's database, for provisioning and
    // seeding (faster than the API for bulk data) and for checking writes afterwards.
    let mut config = Config::development(data_dir);
    config.database_url = database.map(|d| d.url.clone());
    config.jwt_secret = Some(jwt_secret.clone());
    config.db_max_connections = 4;
    let setup = api::verticals::context(config).await?;
    if let Some(database) = database {
        // Jobs the benchmark queues wake the server's workers as the server's own would.
        api::events::notify::start(&setup, &database.url);
    }
    let server = Server::start(ServerSettings {
        binary,
        data_dir,
        database_url: database.map(|d| d.url.as_str()),
        jwt_secret: &jwt_secret,
        max_subscriptions_per_tenant: (args.subscribers * 2 + 100).max(5000),
    })
    .await?;
    let client = Arc::new(Client::new(server.url())?);
    let mut bench = Bench {
        args: args.clone(),
        client,
        server,
        setup,
        postgres: database.is_some(),
        rows: Vec::new(),
        notes: Vec::new(),
        failures: Vec::new(),
    };
    let started = Instant::now();
    let main = Arc::new(
        fixtures::main_tenant(
            &bench.setup,
            &bench.client,
            args.contacts,
            args.board_per_stage,
        )
        .await?,
    );
    eprintln!(
        "backend {}; main tenant seeded with {} contacts and a 12 x {} board in {:.1} s; server log {}",
        bench.backend(),
        args.contacts,
        args.board_per_stage,
        started.elapsed().as_secs_f64(),
        bench.server.log.display()
    );
    let workloads: Vec<&str> = args
        .workloads
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    let needs_tenants = workloads
        .iter()
        .any(|w| *w == "tenants" || *w == "idle" || *w == "jobs");
    let many = if needs_tenants {
        let count = if workloads.contains(&"tenants") || workloads.contains(&"jobs") {
            args.tenants.max(args.idle_tenants)
        } else {
            args.idle_tenants
        };
        let started = Instant::now();
        let tenants = fixtures::many_tenants(&bench.setup, count, args.board_per_stage).await?;
        eprintln!(
            "{count} more tenants provisioned and seeded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        tenants
    } else {
        Vec::new()
    };
    for workload in workloads {
        eprintln!("running {workload}");
        match workload {
            "board" | "contact" => {
                let request = main_request(&bench.client, &main, workload);
                let (nexo, _) = bench.measure(workload, request).await?;
                bench.baseline(&main, workload, &nexo).await?;
            }
            "list" => {
                let request = main_request(&bench.client, &main, workload);
                bench.measure(workload, request).await?;
            }
            "write" => bench.write(&main).await?,
            "quote" => bench.quote(&main).await?,
            "issue" => bench.issue(&main).await?,
            "tenants" => bench.tenants(&many).await?,
            "provision" => bench.provision().await?,
            "abuse" => {
                let note = abuse::abuse(&mut bench, &main).await?;
                bench.notes.push(note);
            }
            "subscribe" => {
                bench.fresh_server().await?;
                let note = live::subscribe(&bench, &main).await?;
                bench.notes.push(note);
            }
            "idle" => {
                bench.fresh_server().await?;
                let spread = &many[..args.idle_tenants.min(many.len())];
                let note = live::idle(&bench, spread).await?;
                bench.notes.push(note);
            }
            "jobs" => {
                let note = jobs::jobs(&bench).await?;
                bench.notes.push(note);
            }
            other => bail!("unknown workload {other:?}; known: {ALL_WORKLOADS}"),
        }
    }
    bench.finish().await
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

/// Spreads request numbers over `len` choices, the same way on every run.
fn pick(n: u64, len: usize) -> usize {
    (n.wrapping_mul(2_654_435_761) % len.max(1) as u64) as usize
}

/// A GraphQL request built from its number.
fn graphql(
    client: &Arc<Client>,
    make: impl Fn(u64) -> (Arc<BenchTenant>, &'static str, Value) + Send + Sync + 'static,
) -> Request {
    let client = client.clone();
    Arc::new(move |n| {
        let client = client.clone();
        let (tenant, query, variables) = make(n);
        Box::pin(async move {
            client
                .post(&tenant.host, Some(&tenant.token), query, variables)
                .await
                .map(|_| ())
        })
    })
}

fn main_request(client: &Arc<Client>, main: &Arc<MainTenant>, workload: &str) -> Request {
    let main = main.clone();
    let tenant = Arc::new(main.tenant.clone());
    match workload {
        "board" => graphql(client, move |_| {
            let id = tenant.board_id.clone();
            (tenant.clone(), BOARD, json!({"id": id}))
        }),
        "contact" => graphql(client, move |n| {
            let id = &main.contact_ids[pick(n, main.contact_ids.len())];
            (tenant.clone(), CONTACT, json!({"id": id}))
        }),
        "list" => graphql(client, move |n| {
            let term = SEARCH_TERMS[pick(n, SEARCH_TERMS.len())];
            (tenant.clone(), LIST, json!({"s": term}))
        }),
        _ => graphql(client, move |n| {
            let (id, _) = &main.board_opportunities[pick(n, main.board_opportunities.len())];
            (tenant.clone(), WRITE, json!({"o": id}))
        }),
    }
}

impl Bench {
    fn backend(&self) -> &'static str {
        if self.postgres { "postgres" } else { "sqlite" }
    }

    /// Memory figures come from a server that has run nothing else.
    async fn fresh_server(&mut self) -> anyhow::Result<()> {
        self.server.fresh().await?;
        self.client = Arc::new(Client::new(self.server.url())?);
        Ok(())
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.args.duration)
    }

    /// Warm-up, saturation (closed loop) with resource use, then open loop at half the
    /// saturation rate. Returns the phases' answered requests too.
    async fn measure(&mut self, name: &str, request: Request) -> anyhow::Result<(Row, u64)> {
        for n in 0..20 {
            request(u64::MAX - n)
                .await
                .with_context(|| format!("warming up {name}"))?;
        }
        let before = self.server.usage().await?;
        let saturated = load::saturate(&request, self.args.clients, self.duration()).await;
        let used = self.server.usage().await? - before;
        let rate = saturated.per_second() / 2.0;
        let open = load::open_loop(&request, rate, self.duration()).await;
        let row = self.row(name, &saturated, used, rate, &open)?;
        self.rows.push(row.clone());
        Ok((row, 20 + saturated.ok + open.ok))
    }

    fn row(
        &mut self,
        name: &str,
        saturated: &Phase,
        used: Usage,
        rate: f64,
        open: &Phase,
    ) -> anyhow::Result<Row> {
        let requests = (saturated.ok + saturated.errors) as f64;
        let cpu = used.server_cpu
            + if self.postgres {
                used.postgres_cpu
            } else {
                0.0
            };
        for (phase, error) in [
            ("closed loop", &saturated.first_error),
            ("open loop", &open.first_error),
        ] {
            if let Some(error) = error {
                eprintln!("{name} ({phase}): first error: {error}");
                self.failures.push(name.to_owned());
            }
        }
        Ok(Row {
            workload: name.to_owned(),
            saturation_rps: saturated.per_second(),
            requests_per_server_cpu_second: requests / used.server_cpu.max(1e-9),
            requests_per_cpu_second: requests / cpu.max(1e-9),
            statements_per_request: used.statements as f64 / requests.max(1.0),
            open_loop_rate: rate,
            p50_ms: open.ms(0.50),
            p95_ms: open.ms(0.95),
            p99_ms: open.ms(0.99),
            errors: saturated.errors + open.errors,
            server_rss_mib: self.server.rss_kib()? / 1024.0,
        })
    }

    /// The same read answered by hand-written SQL on the server (`/baseline/...`): first
    /// checked to give the same JSON as the GraphQL answer, then measured the same way.
    async fn baseline(
        &mut self,
        main: &Arc<MainTenant>,
        workload: &str,
        nexo: &Row,
    ) -> anyhow::Result<()> {
        let tenant = &main.tenant;
        let variables = |n: u64| -> Value {
            if workload == "board" {
                json!({"id": tenant.board_id})
            } else {
                json!({"id": main.contact_ids[pick(n, main.contact_ids.len())]})
            }
        };
        let query = if workload == "board" { BOARD } else { CONTACT };
        let path = format!("/baseline/{workload}");
        for n in 0..5 {
            let graphql = self
                .client
                .post(&tenant.host, Some(&tenant.token), query, variables(n))
                .await?;
            let raw = self
                .client
                .post_path(&path, &tenant.host, &tenant.token, variables(n))
                .await?;
            if graphql != raw {
                bail!(
                    "the {workload} baseline answers differently from GraphQL:\n  graphql {graphql}\n  baseline {raw}"
                );
            }
        }
        let (client, main_for_request) = (self.client.clone(), main.clone());
        let is_board = workload == "board";
        let request: Request = Arc::new(move |n| {
            let client = client.clone();
            let main = main_for_request.clone();
            let path = path.clone();
            Box::pin(async move {
                let tenant = &main.tenant;
                let body = if is_board {
                    json!({"id": tenant.board_id})
                } else {
                    json!({"id": main.contact_ids[pick(n, main.contact_ids.len())]})
                };
                client
                    .post_path(&path, &tenant.host, &tenant.token, body)
                    .await
                    .map(|_| ())
            })
        });
        let (raw, _) = self.measure(&format!("{workload}-raw"), request).await?;
        self.notes.push(format!(
            "{workload}: Nexo does {:.0} requests per CPU-second (server + database), hand-written SQL {:.0}: {:.0}% of the baseline; p99 at half saturation {:.1} ms against {:.1} ms",
            nexo.requests_per_cpu_second,
            raw.requests_per_cpu_second,
            100.0 * nexo.requests_per_cpu_second / raw.requests_per_cpu_second.max(1e-9),
            nexo.p99_ms,
            raw.p99_ms
        ));
        Ok(())
    }

    /// `logActivity`, then a check that every acknowledged write is in the database.
    async fn write(&mut self, main: &Arc<MainTenant>) -> anyhow::Result<()> {
        let request = main_request(&self.client, main, "write");
        let (_, acknowledged) = self.measure("write", request).await?;
        let tenant = self
            .setup
            .registry
            .by_slug(&main.tenant.slug)
            .await
            .map_err(|e| anyhow::anyhow!("finding the tenant: {e:?}"))?
            .context("the main tenant")?;
        let found = self
            .setup
            .store
            .read(&tenant, |conn| {
                Box::pin(async move {
                    Ok(activity::Entity::find()
                        .filter(activity::Column::Subject.eq("Bench call"))
                        .count(conn)
                        .await?)
                })
            })
            .await
            .map_err(|e| anyhow::anyhow!("counting writes: {e:?}"))?;
        self.notes.push(format!(
            "write: {acknowledged} logActivity calls acknowledged, {found} found in the database afterwards"
        ));
        if found < acknowledged {
            self.failures.push(format!(
                "write: {} acknowledged writes missing",
                acknowledged - found
            ));
        }
        Ok(())
    }

    /// `quote`: a 20-line quote from the catalog created and sent.
    async fn quote(&mut self, main: &Arc<MainTenant>) -> anyhow::Result<()> {
        let products = Arc::new(sales::catalog(&self.client, main).await?);
        let request = sales::quote(&self.client, main, products);
        self.measure("quote", request).await?;
        self.notes.push(format!(
            "quote: each request is createQuote with {} catalog lines and a 5% discount, then sendQuote (two HTTP requests)",
            sales::QUOTE_LINES
        ));
        Ok(())
    }

    /// `issue`: invoices issued on one series from 8 clients; afterwards the numbers must
    /// be 1..n without a gap.
    async fn issue(&mut self, main: &Arc<MainTenant>) -> anyhow::Result<()> {
        let request = sales::issue(&self.client, main);
        let clients = std::mem::replace(&mut self.args.clients, 8);
        let measured = self.measure("issue", request).await;
        self.args.clients = clients;
        let (_, acknowledged) = measured?;
        let tenant = self
            .setup
            .registry
            .by_slug(&main.tenant.slug)
            .await
            .map_err(|e| anyhow::anyhow!("finding the tenant: {e:?}"))?
            .context("the main tenant")?;
        let sequences: Vec<Option<i64>> = self
            .setup
            .store
            .read(&tenant, |conn| {
                Box::pin(async move {
                    Ok(invoice::Entity::find()
                        .select_only()
                        .column(invoice::Column::Sequence)
                        .filter(invoice::Column::Status.eq("issued"))
                        .into_tuple()
                        .all(conn)
                        .await?)
                })
            })
            .await
            .map_err(|e| anyhow::anyhow!("reading the numbers: {e:?}"))?;
        let mut numbers: Vec<i64> = sequences.into_iter().flatten().collect();
        numbers.sort_unstable();
        let gapless = numbers.iter().zip(1..).all(|(n, expected)| *n == expected);
        self.notes.push(format!(
            "issue: each request is createInvoice then issueInvoice (two HTTP requests) from 8 clients; {acknowledged} acknowledged, {} invoices numbered 1..{} {}",
            numbers.len(),
            numbers.last().copied().unwrap_or(0),
            if gapless { "without a gap" } else { "WITH GAPS" }
        ));
        if !gapless || (numbers.len() as u64) < acknowledged {
            self.failures
                .push("issue: invoice numbers have gaps or are missing".into());
        }
        Ok(())
    }

    /// The board over many tenants: first each tenant once (cold: no cached host, no open
    /// pool), then at random (warm); compared with `board` on one tenant when both ran.
    async fn tenants(&mut self, tenants: &[BenchTenant]) -> anyhow::Result<()> {
        let tenants: Arc<Vec<Arc<BenchTenant>>> =
            Arc::new(tenants.iter().cloned().map(Arc::new).collect());
        let count = tenants.len();
        let all = tenants.clone();
        let request = graphql(&self.client, move |n| {
            let tenant = all[pick(n, all.len())].clone();
            let id = tenant.board_id.clone();
            (tenant, BOARD, json!({"id": id}))
        });
        // Cold: every tenant once, in order, from the same number of clients.
        let before = self.server.usage().await?;
        let cold_list = tenants.clone();
        let cold_request = graphql(&self.client, move |n| {
            let tenant = cold_list[n as usize % cold_list.len()].clone();
            let id = tenant.board_id.clone();
            (tenant, BOARD, json!({"id": id}))
        });
        let cold = load::each_once(&cold_request, count, self.args.clients).await;
        let used = self.server.usage().await? - before;
        let mut row = self.row("tenants-cold", &cold, used, 0.0, &cold)?;
        row.open_loop_rate = 0.0;
        self.rows.push(row);
        let (warm, _) = self.measure("tenants", request).await?;
        // The same spread through the hand-written SQL: what the database alone loses when
        // every request plans its statements under another tenant's search_path.
        let (client, raw_list) = (self.client.clone(), tenants.clone());
        let raw_request: Request = Arc::new(move |n| {
            let client = client.clone();
            let tenant = raw_list[pick(n, raw_list.len())].clone();
            Box::pin(async move {
                client
                    .post_path(
                        "/baseline/board",
                        &tenant.host,
                        &tenant.token,
                        json!({"id": tenant.board_id}),
                    )
                    .await
                    .map(|_| ())
            })
        });
        let (raw, _) = self.measure("tenants-raw", raw_request).await?;
        for (spread, one, what) in [
            (&warm, "board", "the board"),
            (&raw, "board-raw", "hand-written SQL"),
        ] {
            if let Some(single) = self.rows.iter().find(|r| r.workload == one) {
                let loss = 1.0 - spread.requests_per_cpu_second / single.requests_per_cpu_second;
                self.notes.push(format!(
                    "tenants: {what} over {count} tenants does {:.0} requests per CPU-second against {:.0} on one tenant: {:.1}% {}",
                    spread.requests_per_cpu_second,
                    single.requests_per_cpu_second,
                    loss.abs() * 100.0,
                    if loss >= 0.0 { "fewer" } else { "more" }
                ));
            }
        }
        Ok(())
    }

    /// `provisionTenant` through the admin API.
    async fn provision(&mut self) -> anyhow::Result<()> {
        let (_, setup_token) =
            api::admin::service::create_admin(&self.setup, "bench-admin@nexo.example")
                .await
                .map_err(|e| anyhow::anyhow!("creating an admin: {e:?}"))?;
        let admin_host = "admin.localhost".to_owned();
        let session = self
            .client
            .post(
                &admin_host,
                None,
                "mutation($t: String!, $p: String!) { completeAdminSetup(token: $t, password: $p) { accessToken } }",
                json!({"t": setup_token, "p": "bench admin password 123"}),
            )
            .await?;
        let admin = Arc::new(BenchTenant {
            slug: String::new(),
            host: admin_host,
            token: session["data"]["completeAdminSetup"]["accessToken"]
                .as_str()
                .context("admin sign-in")?
                .to_owned(),
            board_id: String::new(),
        });
        let next = Arc::new(AtomicU64::new(0));
        let request = graphql(&self.client, move |_| {
            let slug = format!("bench-p{}", next.fetch_add(1, Ordering::Relaxed));
            (
                admin.clone(),
                "mutation($i: ProvisionTenantInput!) { provisionTenant(input: $i) { tenant { id } } }",
                json!({"i": {"slug": slug, "name": format!("Provisioned {slug}"), "ownerEmail": format!("owner@{slug}.example")}}),
            )
        });
        let (row, _) = self.measure("provision", request).await?;
        self.notes.push(format!(
            "provision: {:.0} tenants provisioned per minute at saturation ({} clients)",
            row.saturation_rps * 60.0,
            self.args.clients
        ));
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<()> {
        let machine = machine();
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        println!("nexo-bench on {} ({machine})", self.backend());
        println!(
            "{:<13} {:>9} {:>10} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6} {:>8}",
            "workload",
            "sat req/s",
            "req/srvCPU",
            "req/allCPU",
            "stmts/req",
            "rate",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            "RSS MiB"
        );
        for r in &self.rows {
            println!(
                "{:<13} {:>9.1} {:>10.1} {:>10.1} {:>9.2} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>8.1}",
                r.workload,
                r.saturation_rps,
                r.requests_per_server_cpu_second,
                r.requests_per_cpu_second,
                r.statements_per_request,
                r.open_loop_rate,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.errors,
                r.server_rss_mib
            );
        }
        for note in &self.notes {
            println!("{note}");
        }
        if let Some(path) = &self.args.json {
            let report = Report {
                date: today(),
                machine,
                backend: self.backend(),
                command,
                rows: self.rows.clone(),
                notes: self.notes.clone(),
            };
            std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
        }
        self.server.stop().await?;
        if !self.failures.is_empty() {
            bail!("failed: {}", self.failures.join("; "));
        }
        Ok(())
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// CPU model, cores and memory, for the report.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let memory = procfs::Current::current()
        .map(|m: procfs::Meminfo| m.mem_total as f64 / (1 << 30) as f64)
        .unwrap_or_default();
    format!("{model}, {cores} cores, {memory:.0} GiB")
}
