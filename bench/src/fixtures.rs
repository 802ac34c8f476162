//! What the workloads run against: tenants provisioned and filled with `nexo seed`'s data
//! through the library (on the server's own database), and signed in over HTTP.

use anyhow::{Context, bail};
use api::{
    AppContext,
    admin::service::{Plan, ProvisionRequest, provision_tenant},
    auth::Role,
    seed::{BoardLayout, SeedPlan, seed_tenant},
    tenancy::TenantTx,
};
use entity::tenant::{pipeline, user};
use futures::{StreamExt, TryStreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use serde_json::{Value, json};

/// The board every benchmark tenant has: 12 stages (the issue's "12 x 20").
pub const BOARD_STAGES: usize = 12;

/// The HTTP side of the benchmark: one client pool for all its requests.
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
}

impl Client {
    pub fn new(url: String) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()?,
            url,
        })
    }

    /// POSTs one GraphQL operation; any GraphQL error is an error.
    pub async fn post(
        &self,
        host: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.url)
            .header("Host", host)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await?.json().await?;
        if body.get("errors").is_some() {
            bail!("GraphQL errors: {body}");
        }
        Ok(body)
    }
}

impl Client {
    /// POSTs `body` as JSON to the server's `path` (the raw-SQL baseline routes).
    pub async fn post_path(
        &self,
        path: &str,
        host: &str,
        token: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let url = self.url.replace("/graphql", path);
        let response = self
            .http
            .post(url)
            .header("Host", host)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await?)
    }
}

/// A tenant a workload talks to.
#[derive(Clone)]
pub struct BenchTenant {
    pub slug: String,
    pub host: String,
    pub token: String,
    /// The seeded "Board" pipeline.
    pub board_id: String,
}

/// The main tenant: 100,000 contacts (by default) and the board.
pub struct MainTenant {
    pub tenant: BenchTenant,
    pub contact_ids: Vec<String>,
    pub board_stage_ids: Vec<String>,
    /// The board's opportunities with the stage each is in.
    pub board_opportunities: Vec<(String, String)>,
}

fn host(slug: &str) -> String {
    format!("{slug}.localhost")
}

/// Provisions `slug`, seeds it with `plan`, and finds its owner and board.
async fn provision_and_seed(
    app: &AppContext,
    slug: &str,
    plan: &SeedPlan,
) -> anyhow::Result<(api::admin::service::Provisioned, String, uuid::Uuid)> {
    let provisioned = provision_tenant(
        app,
        ProvisionRequest {
            slug: slug.to_owned(),
            name: format!("Bench {slug}"),
            owner_email: format!("owner@{slug}.example"),
            plan: Plan::Enterprise,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("provisioning {slug}: {e:?}"))?;
    seed_tenant(app, slug, plan)
        .await
        .map_err(|e| anyhow::anyhow!("seeding {slug}: {e:?}"))?;
    let (board, owner) = app
        .store
        .read(&provisioned.tenant, |conn| {
            Box::pin(async move {
                let board = pipeline::Entity::find()
                    .filter(pipeline::Column::Name.eq("Board"))
                    .one(conn)
                    .await?;
                let owner = user::Entity::find()
                    .filter(user::Column::Role.eq(Role::Owner.as_str()))
                    .order_by_asc(user::Column::CreatedAt)
                    .one(conn)
                    .await?;
                Ok((board, owner))
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading {slug}: {e:?}"))?;
    let board = board.context("seeded board")?;
    let owner = owner.context("tenant owner")?;
    Ok((provisioned, board.id.to_string(), owner.id))
}

/// The main tenant, signed in over HTTP like a user would.
pub async fn main_tenant(
    app: &AppContext,
    client: &Client,
    contacts: usize,
    per_stage: usize,
) -> anyhow::Result<MainTenant> {
    let slug = "bench";
    let plan = SeedPlan {
        contacts,
        opportunities: contacts / 10,
        activities: contacts / 2,
        extra_pipelines: 1,
        board: Some(BoardLayout {
            stages: BOARD_STAGES,
            per_stage,
        }),
        seed: 7,
    };
    let (provisioned, board_id, _) = provision_and_seed(app, slug, &plan).await?;
    let host = host(slug);
    let session = client
        .post(
            &host,
            None,
            "mutation($t: String!, $p: String!) { completeSetup(token: $t, password: $p) { accessToken } }",
            json!({"t": provisioned.owner_setup_token, "p": "bench password 123"}),
        )
        .await?;
    let token = session["data"]["completeSetup"]["accessToken"]
        .as_str()
        .context("signing in")?
        .to_owned();
    let ids = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let contacts = client
        .post(
            &host,
            Some(&token),
            "{ contacts(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await?;
    let board = client
        .post(
            &host,
            Some(&token),
            "query($p: ID!) { pipeline(id: $p) { stages { id opportunities(first: 100) { nodes { id } } } } }",
            json!({"p": board_id}),
        )
        .await?;
    let stages = board["data"]["pipeline"]["stages"]
        .as_array()
        .context("board stages")?;
    Ok(MainTenant {
        tenant: BenchTenant {
            slug: slug.to_owned(),
            host,
            token,
            board_id,
        },
        contact_ids: ids(&contacts["data"]["contacts"]["nodes"]),
        board_stage_ids: ids(&board["data"]["pipeline"]["stages"]),
        board_opportunities: stages
            .iter()
            .flat_map(|s| {
                let stage = s["id"].as_str().unwrap_or_default().to_owned();
                ids(&s["opportunities"]["nodes"])
                    .into_iter()
                    .map(move |o| (o, stage.clone()))
            })
            .collect(),
    })
}

/// `count` small tenants, each with the same board as the main tenant, and an owner's
/// access token signed with the server's key (as `login` would issue it).
pub async fn many_tenants(
    app: &AppContext,
    count: usize,
    per_stage: usize,
) -> anyhow::Result<Vec<BenchTenant>> {
    futures::stream::iter(0..count)
        .map(|i| small_tenant(app, format!("bench-t{i}"), per_stage))
        .buffered(4)
        .try_collect()
        .await
}

/// One small tenant: 200 contacts, the main tenant's board, an active owner and their token.
pub async fn small_tenant(
    app: &AppContext,
    slug: String,
    per_stage: usize,
) -> anyhow::Result<BenchTenant> {
    let plan = SeedPlan {
        contacts: 200,
        opportunities: 0,
        activities: 0,
        extra_pipelines: 0,
        board: Some(BoardLayout {
            stages: BOARD_STAGES,
            per_stage,
        }),
        seed: 11,
    };
    let (provisioned, board_id, owner) = provision_and_seed(app, &slug, &plan).await?;
    // Signed in without a password (an argon2 hash per tenant would take minutes): the
    // owner is made active as setup would, and given a token.
    let tenant = std::sync::Arc::new(provisioned.tenant.clone());
    TenantTx::run(&app.store, tenant, move |conn| {
        Box::pin(async move {
            user::Entity::update_many()
                .col_expr(user::Column::Status, Expr::value("active"))
                .filter(user::Column::Id.eq(owner))
                .exec(conn)
                .await?;
            Ok(())
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("activating the owner of {slug}: {e:?}"))?;
    let token = app
        .keys
        // A new user's access version is 1.
        .issue_tenant(owner, provisioned.tenant.id, Role::Owner, 1)
        .map_err(|e| anyhow::anyhow!("signing: {e:?}"))?
        .token;
    Ok(BenchTenant {
        host: host(&slug),
        slug,
        token,
        board_id,
    })
}
