//! The `nexo` binary: server and operator CLI.

use anyhow::Context;
use api::{
    Application, Config,
    admin::service::{self as admin, Plan, ProvisionRequest},
    telemetry,
    tenancy::TenantStatus,
    verticals::{admin_schema, tenant_schema},
};
use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: GraphQL resolution allocates per field, and
/// with it the board does about 45% more requests per CPU-second. It costs memory on SQLite
/// with many open tenants (a heap per connection thread): BENCHMARKS.md has both figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "nexo",
    version,
    about = "Nexo: multi-tenant CRM, sales and support backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (NEXO_LISTEN, default 127.0.0.1:8080).
    Serve {
        /// Provision the `demo` tenant if missing and print a fresh login for it.
        #[arg(long)]
        demo: bool,
    },
    /// Run job workers without the HTTP server (NEXO_JOB_WORKERS, default 8).
    Worker,
    /// Bring the control plane and every tenant up to date (idempotent).
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage platform admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Fill a tenant (or, with --tenants, several new ones) with deterministic sample data.
    Seed {
        /// The tenant to fill; with --tenants, the prefix of the tenants to create.
        #[arg(long)]
        tenant: String,
        /// Provision this many tenants `<tenant>-1` .. `<tenant>-N` (if missing) and fill each.
        #[arg(long)]
        tenants: Option<usize>,
        #[arg(long, default_value_t = 1000)]
        contacts: usize,
        #[arg(long, default_value_t = 500)]
        opportunities: usize,
        #[arg(long, default_value_t = 2000)]
        activities: usize,
        /// Pipelines beside the default one, each of 5 to 12 stages.
        #[arg(long, default_value_t = 2)]
        pipelines: usize,
        /// Also a pipeline named "Board" of this many stages (with --board-per-stage).
        #[arg(long, default_value_t = 0)]
        board_stages: usize,
        /// Opportunities in each stage of the "Board" pipeline.
        #[arg(long, default_value_t = 20)]
        board_per_stage: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Print the GraphQL SDL of the tenant API (or of the admin API with --admin).
    Schema {
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Provision a tenant and print its owner's one-time setup token.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long, default_value = "starter")]
        plan: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop serving a tenant, keeping its data.
    Suspend { slug: String },
    /// Serve a suspended tenant again.
    Resume { slug: String },
    /// Back up a tenant's data, then delete it.
    Delete { slug: String },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform admin and print a one-time setup token.
    Create { email: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Schema { admin } = cli.command {
        let sdl = if admin {
            admin_schema(None).sdl()
        } else {
            tenant_schema(None).sdl()
        };
        print!("{sdl}");
        return Ok(());
    }
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Serve { demo } => serve(config, demo).await,
        Command::Worker => api::run_workers(config, |_| {}, shutdown_signal()).await,
        Command::Migrate => migrate(config).await,
        Command::Tenant { command } => tenant(config, command).await,
        Command::Admin {
            command: AdminCommand::Create { email },
        } => {
            let app = api::verticals::context(config).await?;
            let (admin, token) = admin::create_admin(&app, &email).await?;
            println!("Platform admin {} created.", admin.email);
            println!("One-time setup token (valid 48 hours): {token}");
            println!(
                "Redeem it on http://{}/graphql with completeAdminSetup(token, password).",
                app.config.admin_host()
            );
            Ok(())
        }
        Command::Seed {
            tenant,
            tenants,
            contacts,
            opportunities,
            activities,
            pipelines,
            board_stages,
            board_per_stage,
            seed,
        } => {
            let app = api::verticals::context(config).await?;
            let plan = api::seed::SeedPlan {
                contacts,
                opportunities,
                activities,
                extra_pipelines: pipelines,
                board: (board_stages > 0).then_some(api::seed::BoardLayout {
                    stages: board_stages,
                    per_stage: board_per_stage,
                }),
                seed,
            };
            let slugs: Vec<String> = match tenants {
                None => vec![tenant],
                Some(n) => (1..=n).map(|i| format!("{tenant}-{i}")).collect(),
            };
            for slug in slugs {
                if tenants.is_some() && app.registry.by_slug(&slug).await?.is_none() {
                    admin::provision_tenant(
                        &app,
                        ProvisionRequest {
                            slug: slug.clone(),
                            name: format!("Seeded {slug}"),
                            owner_email: format!("owner@{slug}.example"),
                            plan: Plan::Starter,
                        },
                    )
                    .await?;
                }
                let started = std::time::Instant::now();
                let report = api::seed::seed_tenant(&app, &slug, &plan).await?;
                println!(
                    "{slug}: {} contacts, {} companies, {} opportunities, {} activities, {} pipelines in {:.2} s",
                    report.contacts,
                    report.companies,
                    report.opportunities,
                    report.activities,
                    report.pipelines,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Schema { .. } => Ok(()),
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let application = Application::build(config).await?;
    let app = application.context().clone();
    let port = application.port();
    let host_port = |host: &str| format!("http://{host}:{port}/graphql");
    tracing::info!(
        port,
        backend = if app.store.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        "nexo listening"
    );
    if demo {
        let login = api::demo::prepare(&app).await?;
        let base = &app.config.base_domain;
        println!();
        println!("  Nexo demo tenant is ready.");
        println!(
            "  GraphQL (and GraphiQL in a browser): {}",
            host_port(&format!("demo.{base}"))
        );
        println!(
            "  Sign in:   email {}   password {}",
            login.email, login.password
        );
        println!("  Sign in with curl (any host name works with a Host header):");
        println!(
            "    curl -s {} -H 'Host: demo.{base}' -H 'Content-Type: application/json' \\",
            host_port("127.0.0.1")
        );
        println!(
            "      -d '{{\"query\":\"mutation {{ login(email: \\\"{}\\\", password: \\\"{}\\\") {{ accessToken }} }}\"}}'",
            login.email, login.password
        );
        println!();
    }
    application.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("nexo stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let app = api::verticals::context(config).await?;
    let report = api::tenancy::migrate_tenants(
        &app.store,
        &app.registry,
        app.config.migrate_concurrency,
        |done, total, slug, outcome| match outcome {
            Ok(applied) => println!("[{done}/{total}] {slug}: {applied} migration(s) applied"),
            Err(e) => println!("[{done}/{total}] {slug}: FAILED: {}", e.message()),
        },
    )
    .await?;
    println!(
        "control plane: {} migration(s) applied; {} tenant(s), {} tenant migration(s) applied",
        app.control_migrations_applied, report.tenants, report.tenant_migrations_applied
    );
    if !report.failed.is_empty() {
        anyhow::bail!("migration failed for: {}", report.failed.join(", "));
    }
    Ok(())
}

async fn tenant(config: Config, command: TenantCommand) -> anyhow::Result<()> {
    let app = api::verticals::context(config).await?;
    match command {
        TenantCommand::Create {
            slug,
            name,
            owner_email,
            plan,
            json,
        } => {
            let plan = Plan::parse(&plan).with_context(|| {
                format!("unknown plan {plan:?}: free, starter, professional or enterprise")
            })?;
            let provisioned = admin::provision_tenant(
                &app,
                ProvisionRequest {
                    slug,
                    name,
                    owner_email,
                    plan,
                },
            )
            .await?;
            let tenant = &provisioned.tenant;
            let host = format!("{}.{}", tenant.slug, app.config.base_domain);
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": tenant.id,
                        "slug": tenant.slug.as_str(),
                        "name": tenant.name,
                        "host": host,
                        "ownerEmail": tenant.owner_email,
                        "ownerSetupToken": provisioned.owner_setup_token,
                        "setupTokenExpiresAt": provisioned.setup_token_expires_at,
                    })
                );
            } else {
                println!("Tenant {} created at {host}.", tenant.slug);
                println!(
                    "Owner {}: one-time setup token {}",
                    tenant.owner_email, provisioned.owner_setup_token
                );
                println!(
                    "Redeem it with the completeSetup(token, password) mutation on that host."
                );
            }
        }
        TenantCommand::List { json } => {
            let tenants = app.registry.all_live().await?;
            if json {
                let rows: Vec<_> = tenants
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "id": t.id, "slug": t.slug.as_str(), "name": t.name,
                            "plan": t.plan, "status": t.status.as_str(), "createdAt": t.created_at,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for t in tenants {
                    println!(
                        "{:<40} {:<10} {:<12} {}",
                        t.slug,
                        t.status.as_str(),
                        t.plan,
                        t.name
                    );
                }
            }
        }
        TenantCommand::Suspend { slug } => {
            admin::set_tenant_status(&app, &slug, TenantStatus::Suspended).await?;
            println!("Tenant {slug} suspended.");
        }
        TenantCommand::Resume { slug } => {
            admin::set_tenant_status(&app, &slug, TenantStatus::Active).await?;
            println!("Tenant {slug} resumed.");
        }
        TenantCommand::Delete { slug } => {
            let deleted = admin::delete_tenant(&app, &slug).await?;
            println!(
                "Tenant {} deleted; backup kept at {}",
                deleted.slug,
                deleted.backup_path.display()
            );
        }
    }
    Ok(())
}
