//! The benchmark's raw-SQL baseline (`NEXO_BENCH_BASELINE=true`, never in production):
//! the board and contact reads of `nexo-bench`, answered with the best hand-written SQL
//! through sqlx on the server's own pool, in the same tenant transaction (BEGIN, SET LOCAL
//! on PostgreSQL), after the same host resolution and token check, serialised to the same
//! JSON as the GraphQL answer. `nexo-bench` checks that both answers are equal, then times
//! both: the ratio is how close Nexo comes to the limit.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use sea_orm::sqlx::{self, Row};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::AppState;
use crate::{
    crm::opportunities::weighted,
    domain::Money,
    error::{AppError, AppResult},
    tenancy::{HostTarget, RawPool, Tenant},
};

#[derive(serde::Deserialize)]
pub(super) struct ById {
    id: Uuid,
}

/// The board's opportunities per stage, as the benchmark's query asks (`first: 20`).
const BOARD_FIRST: i64 = 20;

pub(super) async fn board(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<ById>,
) -> Response {
    match authorised(&state, &headers).await {
        Ok(tenant) => respond(board_json(&state, &tenant, input.id).await),
        Err(e) => refuse(e),
    }
}

pub(super) async fn contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<ById>,
) -> Response {
    match authorised(&state, &headers).await {
        Ok(tenant) => respond(contact_json(&state, &tenant, input.id).await),
        Err(e) => refuse(e),
    }
}

fn respond(result: AppResult<Value>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => refuse(e),
    }
}

fn refuse(error: AppError) -> Response {
    if matches!(error, AppError::NotFound(_)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    (error.http_status(), Json(error.to_response_body())).into_response()
}

/// The same checks a GraphQL request passes: the feature is on, the host is a tenant, the
/// bearer token is valid for it.
async fn authorised(state: &AppState, headers: &HeaderMap) -> AppResult<std::sync::Arc<Tenant>> {
    if !state.app.config.bench_baseline {
        return Err(AppError::NotFound("baseline"));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let HostTarget::Tenant(tenant) = state.app.resolver.resolve(host).await? else {
        return Err(AppError::NotFound("tenant"));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| AppError::Unauthenticated("a bearer token is required".into()))?;
    state.app.authorize_bearer(&tenant, token.trim()).await?;
    Ok(tenant)
}

fn money(minor: i64, currency: &str) -> AppResult<Value> {
    let money = Money::from_stored(minor, currency)?;
    Ok(json!({"amount": money.amount().to_string(), "currency": money.currency_code()}))
}

fn full_name(first: String, last: Option<String>) -> String {
    match last {
        Some(last) => format!("{first} {last}"),
        None => first,
    }
}

/// As async-graphql writes a `DateTime<Utc>`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

/// Runs `$body` with `$tx`, a transaction on the tenant begun as Nexo begins its own (on
/// PostgreSQL, BEGIN then SET LOCAL search_path); `$postgres` tells the dialect. A macro,
/// because the two backends' transactions are different types.
macro_rules! in_tenant_tx {
    ($pool:expr, $tenant:expr, |$tx:ident, $postgres:ident| $body:expr) => {
        match $pool {
            RawPool::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err(sql_error)?;
                sqlx::query(sqlx::AssertSqlSafe($tenant.slug.set_local_search_path()))
                    .execute(&mut *$tx)
                    .await
                    .map_err(sql_error)?;
                let $postgres = true;
                let value = $body;
                $tx.commit().await.map_err(sql_error)?;
                value
            }
            RawPool::Sqlite(pool) => {
                let mut $tx = pool.begin().await.map_err(sql_error)?;
                let $postgres = false;
                let value = $body;
                $tx.commit().await.map_err(sql_error)?;
                value
            }
        }
    };
}

/// Pipeline and stages; totals per stage and currency; the first opportunities of every
/// stage with contact, company, owner and latest activity: three statements.
async fn board_json(state: &AppState, tenant: &Tenant, pipeline: Uuid) -> AppResult<Value> {
    let pool = state.app.store.raw_tenant_pool(tenant).await?;
    macro_rules! board_in {
        ($tx:expr, $stages:expr, $totals:expr, $firsts:expr) => {{
            let stages = sqlx::query($stages)
                .bind(pipeline)
                .fetch_all(&mut *$tx)
                .await
                .map_err(sql_error)?;
            if stages.is_empty() {
                return Ok(json!({"data": {"pipeline": null}}));
            }
            let totals = sqlx::query($totals)
                .bind(pipeline)
                .fetch_all(&mut *$tx)
                .await
                .map_err(sql_error)?;
            let firsts = sqlx::query($firsts)
                .bind(pipeline)
                .bind(BOARD_FIRST)
                .fetch_all(&mut *$tx)
                .await
                .map_err(sql_error)?;
            let mut columns = Vec::with_capacity(stages.len());
            for stage in &stages {
                let stage_id: Uuid = stage.try_get("stage_id").map_err(sql_error)?;
                let probability: i16 = stage.try_get("probability").map_err(sql_error)?;
                let mut count = 0i64;
                let mut value = Vec::new();
                for total in totals.iter().filter(|t| {
                    t.try_get::<Uuid, _>("stage_id").ok() == Some(stage_id)
                }) {
                    count += total.try_get::<i64, _>("count").map_err(sql_error)?;
                    value.push(money(
                        total.try_get("amount").map_err(sql_error)?,
                        total.try_get("currency").map_err(sql_error)?,
                    )?);
                }
                let mut nodes = Vec::new();
                for o in firsts.iter().filter(|o| {
                    o.try_get::<Uuid, _>("stage_id").ok() == Some(stage_id)
                }) {
                    nodes.push(board_node(o, probability)?);
                }
                columns.push(json!({
                    "id": stage_id.to_string(),
                    "name": stage.try_get::<String, _>("stage_name").map_err(sql_error)?,
                    "probability": probability,
                    "opportunities": {"totalCount": count, "totalValue": value, "nodes": nodes},
                }));
            }
            let first = &stages[0];
            json!({"data": {"pipeline": {
                "id": pipeline.to_string(),
                "name": first.try_get::<String, _>("pipeline_name").map_err(sql_error)?,
                "stages": columns,
            }}})
        }};
    }
    let body = in_tenant_tx!(pool, tenant, |tx, postgres| if postgres {
        board_in!(tx, STAGES_SQL, TOTALS_SQL, FIRSTS_PG.as_str())
    } else {
        board_in!(tx, STAGES_SQLITE, TOTALS_SQLITE, FIRSTS_SQLITE.as_str())
    });
    Ok(body)
}

const STAGES_SQL: &str = "SELECT p.name AS pipeline_name, s.id AS stage_id, s.name AS stage_name, \
     s.probability FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id \
     WHERE p.id = $1 ORDER BY s.position";
const STAGES_SQLITE: &str = "SELECT p.name AS pipeline_name, s.id AS stage_id, \
     s.name AS stage_name, s.probability FROM pipelines p \
     JOIN pipeline_stages s ON s.pipeline_id = p.id WHERE p.id = ?1 ORDER BY s.position";
const TOTALS_SQLITE: &str = "SELECT o.stage_id, o.currency, COUNT(*) AS count, \
     CAST(SUM(o.value_amount) AS BIGINT) AS amount \
     FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id \
     WHERE s.pipeline_id = ?1 AND o.status = s.kind \
     GROUP BY o.stage_id, o.currency ORDER BY o.stage_id, o.currency";
const TOTALS_SQL: &str = "SELECT o.stage_id, o.currency, COUNT(*) AS count, \
     CAST(SUM(o.value_amount) AS BIGINT) AS amount \
     FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id \
     WHERE s.pipeline_id = $1 AND o.status = s.kind \
     GROUP BY o.stage_id, o.currency ORDER BY o.stage_id, o.currency";
const BOARD_COLUMNS: &str = "o.id, o.title, o.value_amount, o.currency, o.stage_id, \
     c.id AS contact_id, c.first_name, c.last_name, c.email AS contact_email, \
     co.id AS company_id, co.name AS company_name, u.id AS owner_id, u.email AS owner_email, \
     a.id AS activity_id, a.kind AS activity_kind, a.subject AS activity_subject, \
     a.created_at AS activity_created_at";
static FIRSTS_PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {BOARD_COLUMNS} FROM pipeline_stages s CROSS JOIN LATERAL (SELECT * FROM opportunities x \
       WHERE x.stage_id = s.id AND x.status = s.kind ORDER BY x.position, x.id LIMIT $2) o \
     LEFT JOIN contacts c ON c.id = o.contact_id \
     LEFT JOIN companies co ON co.id = o.company_id \
     LEFT JOIN users u ON u.id = o.owner_id \
     LEFT JOIN LATERAL (SELECT id, kind, subject, created_at FROM activities x \
       WHERE x.opportunity_id = o.id ORDER BY x.id DESC LIMIT 1) a ON true \
     WHERE s.pipeline_id = $1 ORDER BY s.position, o.position, o.id"
    )
});
static FIRSTS_SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {BOARD_COLUMNS} FROM (SELECT x.*, s.position AS stage_position, ROW_NUMBER() OVER \
       (PARTITION BY x.stage_id ORDER BY x.position, x.id) AS board_rank \
       FROM opportunities x JOIN pipeline_stages s ON s.id = x.stage_id \
       WHERE s.pipeline_id = ?1 AND x.status = s.kind) o \
     LEFT JOIN contacts c ON c.id = o.contact_id \
     LEFT JOIN companies co ON co.id = o.company_id \
     LEFT JOIN users u ON u.id = o.owner_id \
     LEFT JOIN activities a ON a.id = (SELECT id FROM activities x \
       WHERE x.opportunity_id = o.id ORDER BY x.id DESC LIMIT 1) \
     WHERE o.board_rank <= ?2 ORDER BY o.stage_position, o.position, o.id"
    )
});

fn board_node<R: Row>(o: &R, probability: i16) -> AppResult<Value>
where
    for<'r> Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Uuid>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    let amount: i64 = o.try_get("value_amount").map_err(sql_error)?;
    let currency: String = o.try_get("currency").map_err(sql_error)?;
    let id = |column: &str| -> AppResult<Option<String>> {
        Ok(o.try_get::<Option<Uuid>, _>(column)
            .map_err(sql_error)?
            .map(|id| id.to_string()))
    };
    let text = |column: &str| -> AppResult<Option<String>> {
        o.try_get::<Option<String>, _>(column).map_err(sql_error)
    };
    let contact = match id("contact_id")? {
        Some(contact_id) => json!({
            "id": contact_id,
            "fullName": full_name(text("first_name")?.unwrap_or_default(), text("last_name")?),
            "email": text("contact_email")?,
        }),
        None => Value::Null,
    };
    let company = match id("company_id")? {
        Some(company_id) => json!({"id": company_id, "name": text("company_name")?}),
        None => Value::Null,
    };
    let owner = match id("owner_id")? {
        Some(owner_id) => json!({"id": owner_id, "email": text("owner_email")?}),
        None => Value::Null,
    };
    let activity = match id("activity_id")? {
        Some(activity_id) => json!({
            "id": activity_id,
            "kind": text("activity_kind")?.unwrap_or_default().to_ascii_uppercase(),
            "subject": text("activity_subject")?,
            "createdAt": o
                .try_get::<Option<DateTime<Utc>>, _>("activity_created_at")
                .map_err(sql_error)?
                .map(timestamp),
        }),
        None => Value::Null,
    };
    let mut node = Map::new();
    node.insert(
        "id".into(),
        json!(o.try_get::<Uuid, _>("id").map_err(sql_error)?.to_string()),
    );
    node.insert(
        "title".into(),
        json!(o.try_get::<String, _>("title").map_err(sql_error)?),
    );
    node.insert("value".into(), money(amount, &currency)?);
    node.insert(
        "weightedValue".into(),
        money(weighted(amount, probability), &currency)?,
    );
    node.insert("contact".into(), contact);
    node.insert("company".into(), company);
    node.insert("owner".into(), owner);
    node.insert("latestActivity".into(), activity);
    Ok(Value::Object(node))
}

/// A contact with its company: one statement.
async fn contact_json(state: &AppState, tenant: &Tenant, contact: Uuid) -> AppResult<Value> {
    const SQL: &str = "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.status, \
         co.id AS company_id, co.name AS company_name, co.domain AS company_domain \
         FROM contacts c LEFT JOIN companies co ON co.id = c.company_id WHERE c.id = $1";
    const SQLITE: &str = "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.status, \
         co.id AS company_id, co.name AS company_name, co.domain AS company_domain \
         FROM contacts c LEFT JOIN companies co ON co.id = c.company_id WHERE c.id = ?1";
    let pool = state.app.store.raw_tenant_pool(tenant).await?;
    macro_rules! contact_in {
        ($tx:expr, $sql:expr) => {{
            let row = sqlx::query($sql)
                .bind(contact)
                .fetch_optional(&mut *$tx)
                .await
                .map_err(sql_error)?;
            match row {
                None => Value::Null,
                Some(c) => {
                    let text = |column: &str| -> AppResult<Option<String>> {
                        c.try_get::<Option<String>, _>(column).map_err(sql_error)
                    };
                    let company = match c
                        .try_get::<Option<Uuid>, _>("company_id")
                        .map_err(sql_error)?
                    {
                        Some(id) => json!({
                            "id": id.to_string(),
                            "name": text("company_name")?,
                            "domain": text("company_domain")?,
                        }),
                        None => Value::Null,
                    };
                    json!({
                        "id": contact.to_string(),
                        "fullName": full_name(text("first_name")?.unwrap_or_default(), text("last_name")?),
                        "email": text("email")?,
                        "phone": text("phone")?,
                        "status": text("status")?.unwrap_or_default().to_ascii_uppercase(),
                        "company": company,
                    })
                }
            }
        }};
    }
    let node = in_tenant_tx!(pool, tenant, |tx, postgres| contact_in!(
        tx,
        if postgres { SQL } else { SQLITE }
    ));
    Ok(json!({"data": {"contact": node}}))
}

fn sql_error(e: sqlx::Error) -> AppError {
    AppError::internal(format!("baseline query failed: {e}"))
}
