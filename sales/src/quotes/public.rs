//! A quote's public link, `/q/<token>` on the tenant's host, for the client without signing
//! in: GET (and HEAD) shows the quote, as a page or as JSON (`Accept: application/json`),
//! and changes nothing, since mail scanners open links; `POST .../accept` (a typed name) and
//! `POST .../reject` (an optional reason) decide it, idempotently.
//!
//! The token is 256 random bits, kept only as its SHA-256; an unknown, cancelled or other
//! tenant's token gets the same 404. Every answer is `no-store`, `no-referrer`, `noindex`;
//! requests are rate-limited per tenant and address; the request log shows `/q/` alone.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use entity::tenant::{document_line, quote};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use platform::{
    AppContext,
    auth::Principal,
    error::{AppError, AppResult},
    graphql::money,
    tenancy::{HostTarget, Tenant, TenantStatus, TenantTx, TxMode},
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{DecidedBy, Decision, Evidence};
use crate::{
    lines::{self, Owner, StoredPart},
    shared::{stored_decimal, stored_discount},
    totals::TaxGroup,
    types::QuoteStatus,
};

/// Where the routes start; what the request log shows of their paths.
pub const PREFIX: &str = "/q/";

/// Requests per minute a client address may make to one tenant's links.
const PER_MINUTE: u32 = 30;

/// How many requests each client address may make to one tenant's links.
pub struct LinkLimiter(DefaultKeyedRateLimiter<(Uuid, IpAddr)>);

impl Default for LinkLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }
}

pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/q/{token}", get(show))
        .route("/q/{token}/accept", post(accept))
        .route("/q/{token}/reject", post(reject))
        .layer(DefaultBodyLimit::max(16 * 1024))
}

#[derive(serde::Deserialize, Default)]
struct Format {
    format: Option<String>,
}

/// How the client wants the answer: a page, or JSON.
#[derive(Clone, Copy, PartialEq)]
enum Reply {
    Page,
    Json,
}

impl Reply {
    fn of(headers: &HeaderMap, format: Option<&str>) -> Self {
        let accepts_json = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        if format == Some("json") || accepts_json || is_json(headers) {
            Self::Json
        } else {
            Self::Page
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

async fn show(
    State(app): State<AppContext>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(format): Query<Format>,
) -> Response {
    let reply = Reply::of(&headers, format.format.as_deref());
    let path_token = token.clone();
    let result = async {
        let (tenant, _) = admit(&app, &headers, peer).await?;
        let name = tenant.name.clone();
        app.store
            .read(&tenant, |tx| {
                Box::pin(async move {
                    let quote = find_by_token(tx, &token).await?;
                    view(tx, &quote, &name).await
                })
            })
            .await
    }
    .await;
    answer(reply, &path_token, result)
}

async fn accept(
    State(app): State<AppContext>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let reply = Reply::of(&headers, None);
    let result = match field(&headers, &body, "name").and_then(|name| {
        platform::graphql::input::required_text(&name.unwrap_or_default(), "name", 200)
    }) {
        Ok(name) => decide(&app, &headers, peer, &token, Decision::Accept { name }).await,
        Err(e) => Err(e),
    };
    answer(reply, &token, result)
}

async fn reject(
    State(app): State<AppContext>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let reply = Reply::of(&headers, None);
    let result = match field(&headers, &body, "reason").and_then(|reason| {
        platform::graphql::input::optional_text(reason.as_deref(), "reason", 2_000)
    }) {
        Ok(reason) => decide(&app, &headers, peer, &token, Decision::Reject { reason }).await,
        Err(e) => Err(e),
    };
    answer(reply, &token, result)
}

/// The tenant at the request's host, if it serves, and the client's address, if it has
/// not made too many requests.
async fn admit(
    app: &AppContext,
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
) -> AppResult<(Arc<Tenant>, IpAddr)> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or(AppError::TenantNotFound)?;
    let tenant = match app.resolver.resolve(host).await? {
        HostTarget::Tenant(tenant) => tenant,
        HostTarget::Admin => return Err(AppError::NotFound("quote")),
    };
    match tenant.status {
        TenantStatus::Active => {}
        TenantStatus::Suspended => return Err(AppError::TenantSuspended),
        TenantStatus::Provisioning => return Err(AppError::TenantNotFound),
    }
    let ip = app.client_ip(headers, peer);
    let limiter = app.state::<LinkLimiter>()?;
    if let Err(not_until) = limiter.0.check_key(&(tenant.id, ip)) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    Ok((tenant, ip))
}

/// A form field or JSON member of the body.
fn field(headers: &HeaderMap, body: &Bytes, name: &str) -> AppResult<Option<String>> {
    if body.is_empty() {
        return Ok(None);
    }
    if is_json(headers) {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| AppError::bad_input("body", "the body is not JSON"))?;
        return match &value[name] {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            _ => Err(AppError::bad_input(name, format!("{name} is text"))),
        };
    }
    Ok(url::form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned()))
}

/// Records the client's decision in the tenant's transaction; a second identical decision
/// answers with the first.
async fn decide(
    app: &AppContext,
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
    token: &str,
    decision: Decision,
) -> AppResult<Value> {
    let (tenant, ip) = admit(app, headers, peer).await?;
    let tx = TenantTx::new(app.store.clone(), tenant.clone(), TxMode::Write, false)
        .waking(app.events.clone());
    let actor = Principal::no_user(tenant.id);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(500).collect());
    let view = async {
        let conn = tx.conn().await?;
        let found = find_by_token(conn, token).await?;
        let by = DecidedBy {
            actor: &actor,
            via_link: true,
            ip: Some(ip.to_string()),
            user_agent,
        };
        let decided = super::decide(conn, by, found.id, decision).await?;
        view(conn, &decided, &tenant.name).await
    }
    .await?;
    tx.finish().await?;
    Ok(view)
}

/// The quote a token opens; anything else is the same `NOT_FOUND`.
async fn find_by_token<C: ConnectionTrait>(conn: &C, token: &str) -> AppResult<quote::Model> {
    let plausible = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plausible {
        return Err(AppError::NotFound("quote"));
    }
    quote::Entity::find()
        .filter(quote::Column::LinkHash.eq(super::token_hash(token)))
        .one(conn)
        .await?
        .filter(|q| q.status != QuoteStatus::Cancelled.as_str())
        .ok_or(AppError::NotFound("quote"))
}

/// The quote as its client sees it: what is offered, its figures, and where it stands.
async fn view<C: ConnectionTrait>(
    conn: &C,
    quote: &quote::Model,
    seller: &str,
) -> AppResult<Value> {
    let now = chrono::Utc::now();
    let status = super::status_at(quote, now)?;
    let currency = quote.currency.as_str();
    let amount = |minor: i64| -> AppResult<Decimal> { Ok(money(minor, currency)?.amount) };
    let lines: Vec<document_line::Model> = lines::of(conn, Owner::Quote(quote.id)).await?;
    let mut shown = Vec::with_capacity(lines.len());
    for line in &lines {
        let parts: Vec<StoredPart> = lines::parts_of(line)?;
        shown.push(json!({
            "description": line.description,
            "sku": line.sku,
            "unit": line.unit,
            "quantity": stored_decimal(&line.quantity)?,
            "unitPrice": stored_decimal(&line.unit_price)?,
            "discount": stored_discount(line.discount.as_ref())?,
            "net": amount(line.net_minor)?,
            "taxes": parts.iter().map(|p| json!({"name": p.tax.name, "percentage": p.tax.percentage})).collect::<Vec<_>>(),
        }));
    }
    let groups: Vec<TaxGroup> = serde_json::from_value(quote.tax_groups.clone())
        .map_err(|e| AppError::internal(format!("stored tax groups do not parse: {e}")))?;
    let decision: Option<Evidence> = quote
        .decision
        .as_ref()
        .map(|d| serde_json::from_value(d.clone()))
        .transpose()
        .map_err(|e| AppError::internal(format!("a stored decision does not parse: {e}")))?;
    let open = status == QuoteStatus::Sent;
    Ok(json!({
        "seller": seller,
        "number": quote.number,
        "revision": quote.revision,
        "status": status.as_str(),
        "currency": currency,
        "pricesIncludeTax": quote.prices_include_tax,
        "validUntil": quote.valid_until,
        "expiresAt": quote.expires_at,
        "buyer": quote.buyer,
        "lines": shown,
        "totals": {
            "subtotal": amount(quote.subtotal_minor)?,
            "discount": amount(quote.discount_minor)?,
            "taxExclusive": amount(quote.tax_exclusive_minor)?,
            "tax": amount(quote.tax_minor)?,
            "total": amount(quote.total_minor)?,
            "taxes": groups.iter().map(|g| Ok(json!({
                "name": g.tax.name, "percentage": g.tax.percentage,
                "base": amount(g.base)?, "amount": amount(g.tax_amount)?,
            }))).collect::<AppResult<Vec<_>>>()?,
        },
        "notes": quote.notes,
        "terms": quote.terms,
        "decision": decision.map(|d| json!({
            "decision": d.decision, "name": d.name, "reason": d.reason, "at": d.at,
        })),
        "actions": if open { json!(["accept", "reject"]) } else { json!([]) },
    }))
}

/// The answer: JSON or a page, with the headers every public answer carries.
fn answer(reply: Reply, token: &str, result: AppResult<Value>) -> Response {
    let (status, body) = match &result {
        Ok(view) => (StatusCode::OK, view.clone()),
        Err(e) => (
            e.http_status(),
            json!({"error": {"code": e.code(), "message": public_message(e)}}),
        ),
    };
    let mut response = match reply {
        Reply::Json => (status, axum::Json(body)).into_response(),
        Reply::Page => {
            let page = match &result {
                Ok(view) => page(view, token),
                Err(e) => message_page(&public_message(e)),
            };
            let mut response = (status, page).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
                ),
            );
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Err(AppError::RateLimited { retry_after_secs }) = result
        && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        headers.insert(header::RETRY_AFTER, value);
    }
    response
}

/// What the client is told: one sentence for every link that opens nothing.
fn public_message(error: &AppError) -> String {
    match error {
        AppError::NotFound(_) | AppError::TenantNotFound => "This link is not valid.".into(),
        AppError::Internal(_) => error.to_graphql().message,
        other => other.message(),
    }
}

fn escape(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The quote as a page: its lines and totals, and the forms that decide it while it is open.
fn page(view: &Value, token: &str) -> String {
    let currency = text_of(&view["currency"]);
    let mut rows = String::new();
    for line in view["lines"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(&text_of(&line["description"])),
            escape(&text_of(&line["quantity"])),
            escape(&text_of(&line["unitPrice"])),
            escape(&text_of(&line["net"])),
        ));
    }
    let totals = &view["totals"];
    let mut taxes = String::new();
    for tax in totals["taxes"].as_array().into_iter().flatten() {
        taxes.push_str(&format!(
            "<tr><td colspan=3>{} {}%</td><td class=n>{}</td></tr>",
            escape(&text_of(&tax["name"])),
            escape(&text_of(&tax["percentage"])),
            escape(&text_of(&tax["amount"])),
        ));
    }
    let status = text_of(&view["status"]);
    let actions = if view["actions"].as_array().is_some_and(|a| !a.is_empty()) {
        let token = html_escape::encode_double_quoted_attribute(token);
        format!(
            "<form method=post action=\"/q/{token}/accept\"><label>Your full name <input name=name required maxlength=200></label> <button>Accept</button></form>\
             <form method=post action=\"/q/{token}/reject\"><label>Reason (optional) <input name=reason maxlength=2000></label> <button>Reject</button></form>"
        )
    } else {
        format!("<p class=status>This quote is {}.</p>", escape(&status))
    };
    let terms = match view["terms"].as_str() {
        Some(terms) => format!("<h2>Terms</h2><p>{}</p>", escape(terms)),
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <meta name=robots content=noindex><title>Quote {number}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem}}\
         table{{width:100%;border-collapse:collapse}}td,th{{padding:.3rem;border-bottom:1px solid #ddd;text-align:left}}\
         .n{{text-align:right}}form{{margin:1rem 0}}</style></head><body>\
         <h1>{seller}: quote {number}</h1><p>Valid until {valid_until}. Prices in {currency}.</p>\
         <table><tr><th>Item</th><th class=n>Qty</th><th class=n>Unit price</th><th class=n>Amount</th></tr>{rows}\
         <tr><td colspan=3>Subtotal</td><td class=n>{subtotal}</td></tr>\
         <tr><td colspan=3>Discount</td><td class=n>{discount}</td></tr>{taxes}\
         <tr><th colspan=3>Total</th><th class=n>{total}</th></tr></table>{terms}{actions}</body></html>",
        seller = escape(&text_of(&view["seller"])),
        number = escape(&text_of(&view["number"])),
        valid_until = escape(&text_of(&view["validUntil"])),
        currency = escape(&currency),
        subtotal = escape(&text_of(&totals["subtotal"])),
        discount = escape(&text_of(&totals["discount"])),
        total = escape(&text_of(&totals["total"])),
    )
}

fn message_page(message: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=robots content=noindex>\
         <title>Quote</title></head><body><p>{}</p></body></html>",
        escape(message)
    )
}
