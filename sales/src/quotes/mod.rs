//! Quotes: drafted with lines from the catalog or free text, sent (numbered, frozen, with a
//! public link), then accepted, rejected, expired, revised or cancelled. Every quote knows
//! the actions its state allows (`available_actions`); anything else is refused with
//! `INVALID_TRANSITION` and changes nothing.

pub mod events;
pub mod expiry;
pub mod loader;
pub mod public;
pub mod schema;

use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::{opportunity, quote};
use platform::{
    audit::Audited,
    auth::Principal,
    db::{
        filter::{contains, equals, one_of},
        find_by_id,
        keyset::{PageRequest, SortKey, fetch_page},
        sql::lock_row,
    },
    domain::{Money, Patch},
    error::{AppError, AppResult},
};
use rand::RngCore;
use sea_orm::{
    Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, Func},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use self::events::Quotes;
use crate::{
    lines::{self, NewLine, Owner, Pricing, tax_groups_json},
    settings,
    shared::{buyer_of, check_parties, discount_json, stored_discount, stored_exponent},
    totals::Discount,
    types::{QuoteAction, QuoteStatus, RoundingMode, SeriesKind, TaxRounding},
};

pub struct NewQuote {
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// Checked ISO 4217 code and its exponent; default: the tenant's currency.
    pub currency: Option<(String, u32)>,
    /// Default: the tenant's setting.
    pub prices_include_tax: Option<bool>,
    /// Default: today plus the tenant's validity days.
    pub valid_until: Option<NaiveDate>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    pub discount: Option<Discount>,
    pub lines: Vec<NewLine>,
}

#[derive(Default)]
pub struct QuoteChanges {
    pub contact_id: Patch<Uuid>,
    pub company_id: Patch<Uuid>,
    pub opportunity_id: Patch<Uuid>,
    pub currency: Option<(String, u32)>,
    pub prices_include_tax: Option<bool>,
    pub valid_until: Patch<NaiveDate>,
    pub notes: Patch<String>,
    pub terms: Patch<String>,
    pub discount: Patch<Discount>,
    /// Replaces every line.
    pub lines: Option<Vec<NewLine>>,
}

#[derive(Clone, Debug, Default)]
pub struct QuoteFilter {
    pub statuses: Vec<QuoteStatus>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// Part of the number.
    pub search: Option<String>,
}

/// The client's decision on a sent quote, and who recorded it.
pub enum Decision {
    Accept {
        /// The name the client typed.
        name: String,
    },
    Reject {
        reason: Option<String>,
    },
}

/// Where a decision came from: a signed-in user recording it, or the client on the link.
pub struct DecidedBy<'a> {
    pub actor: &'a Principal,
    pub via_link: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What an acceptance records, as proof of what the client agreed to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub decision: String,
    pub name: Option<String>,
    pub reason: Option<String>,
    /// SHA-256 of the terms the client saw, hex.
    pub terms_hash: String,
    pub number: Option<String>,
    pub revision: i32,
    pub total_minor: i64,
    pub currency: String,
    pub at: DateTime<Utc>,
    pub via_link: bool,
    pub recorded_by: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<quote::Model> {
    find_by_id::<quote::Entity, _>(conn, id, "quote").await
}

/// The quote, locked for the rest of the transaction: transitions read and write it alone.
async fn find_locked<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<quote::Model> {
    find(conn, id).await?;
    lock_row(conn, "quotes", id).await?;
    find(conn, id).await
}

/// The quote's status as of `now`: a sent quote whose valid-until day has ended is
/// expired, even before the expiry job records it.
pub fn status_at(quote: &quote::Model, now: DateTime<Utc>) -> AppResult<QuoteStatus> {
    let status = QuoteStatus::from_stored(&quote.status)?;
    Ok(match (status, quote.expires_at) {
        (QuoteStatus::Sent, Some(expires_at)) if now >= expires_at => QuoteStatus::Expired,
        _ => status,
    })
}

/// What can be done to the quote as of `now`.
pub fn available_actions(quote: &quote::Model, now: DateTime<Utc>) -> AppResult<Vec<QuoteAction>> {
    use QuoteAction::*;
    Ok(match status_at(quote, now)? {
        QuoteStatus::Draft if quote.revision == 1 => vec![Edit, Delete, Send, Cancel],
        QuoteStatus::Draft => vec![Edit, Send, Cancel],
        QuoteStatus::Sent => vec![Revise, Accept, Reject, Cancel],
        QuoteStatus::Expired => vec![Revise, Cancel],
        QuoteStatus::Rejected => vec![Revise],
        QuoteStatus::Accepted | QuoteStatus::Superseded | QuoteStatus::Cancelled => vec![],
    })
}

/// Refuses `action` unless the quote's state allows it: an undecided quote past its day is
/// `EXPIRED`, anything else `INVALID_TRANSITION`.
pub fn require(quote: &quote::Model, action: QuoteAction, now: DateTime<Utc>) -> AppResult<()> {
    if available_actions(quote, now)?.contains(&action) {
        return Ok(());
    }
    let status = status_at(quote, now)?;
    if status == QuoteStatus::Expired && matches!(action, QuoteAction::Accept | QuoteAction::Reject)
    {
        return Err(AppError::refused(
            "EXPIRED",
            "the quote's valid-until day has passed",
        ));
    }
    Err(AppError::refused(
        "INVALID_TRANSITION",
        format!(
            "a {} quote cannot be {}",
            status.as_str(),
            match action {
                QuoteAction::Edit => "edited",
                QuoteAction::Delete => "deleted",
                QuoteAction::Send => "sent",
                QuoteAction::Revise => "revised",
                QuoteAction::Accept => "accepted",
                QuoteAction::Reject => "rejected",
                QuoteAction::Cancel => "cancelled",
            }
        ),
    ))
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewQuote,
) -> AppResult<quote::Model> {
    check_parties(conn, new.contact_id, new.company_id).await?;
    if let Some(id) = new.opportunity_id {
        find_by_id::<opportunity::Entity, _>(conn, id, "opportunity").await?;
    }
    let settings = settings::get(conn).await?;
    let (currency, exponent) = match new.currency {
        Some(currency) => currency,
        None => {
            let exponent = stored_exponent(&settings.default_currency)?;
            (settings.default_currency.clone(), exponent)
        }
    };
    let timezone = settings::timezone(&settings)?;
    let valid_until = match new.valid_until {
        Some(day) => day,
        None => {
            settings::today(timezone)
                + chrono::Duration::days(i64::from(settings.quote_validity_days))
        }
    };
    let pricing = Pricing {
        exponent,
        prices_include_tax: new
            .prices_include_tax
            .unwrap_or(settings.prices_include_tax),
        rounding: RoundingMode::from_stored(&settings.rounding)?,
        tax_rounding: TaxRounding::from_stored(&settings.tax_rounding)?,
    };
    let mut drafts = lines::resolve(conn, &settings, &currency, exponent, new.lines).await?;
    let totals = lines::price(pricing, &mut drafts, new.discount)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let row = quote::ActiveModel {
        id: Set(id),
        series_id: Set(None),
        sequence: Set(None),
        number: Set(None),
        revision: Set(1),
        previous_id: Set(None),
        contact_id: Set(new.contact_id),
        company_id: Set(new.company_id),
        opportunity_id: Set(new.opportunity_id),
        status: Set(QuoteStatus::Draft.as_str().to_owned()),
        currency: Set(currency),
        prices_include_tax: Set(pricing.prices_include_tax),
        rounding: Set(pricing.rounding.as_str().to_owned()),
        tax_rounding: Set(pricing.tax_rounding.as_str().to_owned()),
        discount: Set(discount_json(new.discount)),
        notes: Set(new.notes),
        terms: Set(new.terms),
        valid_until: Set(Some(valid_until)),
        expires_at: Set(None),
        subtotal_minor: Set(totals.subtotal),
        discount_minor: Set(totals.discount),
        tax_exclusive_minor: Set(totals.tax_exclusive),
        tax_minor: Set(totals.tax),
        total_minor: Set(totals.total),
        tax_groups: Set(tax_groups_json(&totals)?),
        buyer: Set(None),
        link_hash: Set(None),
        sent_at: Set(None),
        decided_at: Set(None),
        decision: Set(None),
        owner_id: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = Quotes::insert(conn, actor, row).await?;
    lines::store(conn, Owner::Quote(id), drafts, &totals).await?;
    Ok(model)
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: QuoteChanges,
) -> AppResult<quote::Model> {
    let current = find_locked(conn, id).await?;
    require(&current, QuoteAction::Edit, Utc::now())?;
    let set = |p: &Patch<Uuid>| match p {
        Patch::Set(v) => Some(*v),
        _ => None,
    };
    check_parties(conn, set(&changes.contact_id), set(&changes.company_id)).await?;
    if let Some(id) = set(&changes.opportunity_id) {
        find_by_id::<opportunity::Entity, _>(conn, id, "opportunity").await?;
    }
    let mut pricing = Pricing::stored(
        &current.currency,
        current.prices_include_tax,
        &current.rounding,
        &current.tax_rounding,
    )?;
    let currency = match changes.currency {
        Some((code, exponent)) => {
            pricing.exponent = exponent;
            code
        }
        None => current.currency.clone(),
    };
    if let Some(inclusive) = changes.prices_include_tax {
        pricing.prices_include_tax = inclusive;
    }
    let discount = changes
        .discount
        .apply(stored_discount(current.discount.as_ref())?);
    let (mut drafts, _) = lines::given_or_stored(
        conn,
        Owner::Quote(id),
        &currency,
        pricing.exponent,
        changes.lines,
    )
    .await?;
    let totals = lines::price(pricing, &mut drafts, discount)?;
    let row = quote::ActiveModel {
        id: Set(id),
        contact_id: Set(changes.contact_id.apply(current.contact_id)),
        company_id: Set(changes.company_id.apply(current.company_id)),
        opportunity_id: Set(changes.opportunity_id.apply(current.opportunity_id)),
        currency: Set(currency),
        prices_include_tax: Set(pricing.prices_include_tax),
        discount: Set(discount_json(discount)),
        notes: Set(changes.notes.apply(current.notes.clone())),
        terms: Set(changes.terms.apply(current.terms.clone())),
        valid_until: Set(changes.valid_until.apply(current.valid_until)),
        subtotal_minor: Set(totals.subtotal),
        discount_minor: Set(totals.discount),
        tax_exclusive_minor: Set(totals.tax_exclusive),
        tax_minor: Set(totals.tax),
        total_minor: Set(totals.total),
        tax_groups: Set(tax_groups_json(&totals)?),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let model = Quotes::update(conn, actor, &current, row, None).await?;
    lines::store(conn, Owner::Quote(id), drafts, &totals).await?;
    Ok(model)
}

/// Deletes a draft that was never sent (a revision's draft is cancelled instead).
pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_locked(conn, id).await?;
    require(&current, QuoteAction::Delete, Utc::now())?;
    Quotes::delete(conn, actor, &current).await
}

/// A sent quote and its public link's token, which exists only in this answer: the
/// database keeps its hash.
pub struct Sent {
    pub quote: quote::Model,
    pub token: String,
}

/// The public link's token: 256 random bits, URL-safe.
fn mint_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// How a token is stored and looked up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Sends a draft: numbers it (a revision keeps its quote's number), fixes the instant its
/// valid-until day ends, copies who it is for, and mints its public link.
pub async fn send<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<Sent> {
    let current = find_locked(conn, id).await?;
    let now = Utc::now();
    require(&current, QuoteAction::Send, now)?;
    if lines::of(conn, Owner::Quote(id)).await?.is_empty() {
        return Err(AppError::refused(
            "INCOMPLETE",
            "a quote needs at least one line to be sent",
        ));
    }
    let buyer = buyer_of(conn, current.contact_id, current.company_id, "a quote").await?;
    let settings = settings::get(conn).await?;
    let timezone = settings::timezone(&settings)?;
    let valid_until = current.valid_until.ok_or_else(|| {
        AppError::refused("INCOMPLETE", "a quote needs a valid-until date to be sent")
    })?;
    if valid_until < settings::today(timezone) {
        return Err(AppError::bad_input(
            "validUntil",
            "the valid-until date has passed; change it before sending",
        ));
    }
    let expires_at = settings::end_of_day(valid_until, timezone)?;
    let (series_id, sequence, number) = match (current.series_id, current.sequence) {
        (Some(series), Some(sequence)) => (series, sequence, current.number.clone()),
        _ => {
            let series = settings::default_series(conn, SeriesKind::Quote).await?;
            let (series, sequence) = settings::take_number(conn, series.id).await?;
            let number = settings::format_number(&series, sequence);
            (series.id, sequence, Some(number))
        }
    };
    let (token, hash) = mint_token();
    let row = quote::ActiveModel {
        id: Set(id),
        status: Set(QuoteStatus::Sent.as_str().to_owned()),
        series_id: Set(Some(series_id)),
        sequence: Set(Some(sequence)),
        number: Set(number),
        expires_at: Set(Some(expires_at)),
        buyer: Set(Some(buyer)),
        link_hash: Set(Some(hash)),
        sent_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    let quote = Quotes::update(conn, actor, &current, row, None).await?;
    Ok(Sent { quote, token })
}

/// Starts a new draft revision of a sent, expired or rejected quote, which it supersedes:
/// the same number, fields and lines, the next revision.
pub async fn revise<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
) -> AppResult<quote::Model> {
    let current = find_locked(conn, id).await?;
    let now = Utc::now();
    require(&current, QuoteAction::Revise, now)?;
    let superseded = quote::ActiveModel {
        id: Set(id),
        status: Set(QuoteStatus::Superseded.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    Quotes::update(conn, actor, &current, superseded, None).await?;

    let settings = settings::get(conn).await?;
    let today = settings::today(settings::timezone(&settings)?);
    let valid_until = match current.valid_until {
        Some(day) if day >= today => day,
        _ => today + chrono::Duration::days(i64::from(settings.quote_validity_days)),
    };
    let mut drafts = lines::drafts_of(&lines::of(conn, Owner::Quote(id)).await?)?;
    let discount = stored_discount(current.discount.as_ref())?;
    let totals = lines::price(
        Pricing::stored(
            &current.currency,
            current.prices_include_tax,
            &current.rounding,
            &current.tax_rounding,
        )?,
        &mut drafts,
        discount,
    )?;
    let revision_id = Uuid::now_v7();
    let row = quote::ActiveModel {
        id: Set(revision_id),
        series_id: Set(current.series_id),
        sequence: Set(current.sequence),
        number: Set(current.number.clone()),
        revision: Set(current.revision + 1),
        previous_id: Set(Some(id)),
        contact_id: Set(current.contact_id),
        company_id: Set(current.company_id),
        opportunity_id: Set(current.opportunity_id),
        status: Set(QuoteStatus::Draft.as_str().to_owned()),
        currency: Set(current.currency.clone()),
        prices_include_tax: Set(current.prices_include_tax),
        rounding: Set(current.rounding.clone()),
        tax_rounding: Set(current.tax_rounding.clone()),
        discount: Set(current.discount.clone()),
        notes: Set(current.notes.clone()),
        terms: Set(current.terms.clone()),
        valid_until: Set(Some(valid_until)),
        expires_at: Set(None),
        subtotal_minor: Set(totals.subtotal),
        discount_minor: Set(totals.discount),
        tax_exclusive_minor: Set(totals.tax_exclusive),
        tax_minor: Set(totals.tax),
        total_minor: Set(totals.total),
        tax_groups: Set(tax_groups_json(&totals)?),
        buyer: Set(None),
        link_hash: Set(None),
        sent_at: Set(None),
        decided_at: Set(None),
        decision: Set(None),
        owner_id: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = Quotes::insert(conn, actor, row).await?;
    lines::store(conn, Owner::Quote(revision_id), drafts, &totals).await?;
    Ok(model)
}

pub async fn cancel<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
) -> AppResult<quote::Model> {
    let current = find_locked(conn, id).await?;
    let now = Utc::now();
    require(&current, QuoteAction::Cancel, now)?;
    let row = quote::ActiveModel {
        id: Set(id),
        status: Set(QuoteStatus::Cancelled.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    Quotes::update(conn, actor, &current, row, None).await
}

/// Records that a sent quote's day has ended (the expiry job). Whether it did: a quote
/// gone, decided, revised or cancelled meanwhile is left as it is.
pub async fn expire<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if quote::Entity::find_by_id(id).one(conn).await?.is_none() {
        return Ok(false);
    }
    let current = find_locked(conn, id).await?;
    let due = current.status == QuoteStatus::Sent.as_str()
        && current.expires_at.is_some_and(|at| at <= now);
    if !due {
        return Ok(false);
    }
    let row = quote::ActiveModel {
        id: Set(id),
        status: Set(QuoteStatus::Expired.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    Quotes::update(conn, actor, &current, row, None).await?;
    Ok(true)
}

/// Records the client's decision on a sent quote. Accepting wins its opportunity, valued
/// at the quote's total, in the same transaction.
pub async fn decide<C: ConnectionTrait>(
    conn: &C,
    by: DecidedBy<'_>,
    id: Uuid,
    decision: Decision,
) -> AppResult<quote::Model> {
    let current = find_locked(conn, id).await?;
    let now = Utc::now();
    let (action, status) = match decision {
        Decision::Accept { .. } => (QuoteAction::Accept, QuoteStatus::Accepted),
        Decision::Reject { .. } => (QuoteAction::Reject, QuoteStatus::Rejected),
    };
    // On the link a decision is idempotent: the same one again answers with the first.
    if by.via_link && current.status == status.as_str() {
        return Ok(current);
    }
    require(&current, action, now)?;
    let (name, reason) = match decision {
        Decision::Accept { name } => (Some(name), None),
        Decision::Reject { reason } => (None, reason),
    };
    let evidence = Evidence {
        decision: status.as_str().to_owned(),
        name,
        reason,
        terms_hash: hex::encode(Sha256::digest(
            current.terms.as_deref().unwrap_or_default().as_bytes(),
        )),
        number: current.number.clone(),
        revision: current.revision,
        total_minor: current.total_minor,
        currency: current.currency.clone(),
        at: now,
        via_link: by.via_link,
        recorded_by: by.actor.user(),
        ip: by.ip,
        user_agent: by.user_agent,
    };
    let row = quote::ActiveModel {
        id: Set(id),
        status: Set(status.as_str().to_owned()),
        decided_at: Set(Some(now)),
        decision: Set(Some(serde_json::to_value(&evidence).map_err(|e| {
            AppError::internal(format!("a decision did not serialize: {e}"))
        })?)),
        updated_at: Set(now),
        ..Default::default()
    };
    let quote = Quotes::update(conn, by.actor, &current, row, None).await?;
    if status == QuoteStatus::Accepted
        && let Some(opportunity_id) = quote.opportunity_id
    {
        win_opportunity(conn, by.actor, opportunity_id, &quote).await?;
    }
    Ok(quote)
}

/// The accepted quote's opportunity becomes won, valued at the quote's total.
async fn win_opportunity<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    opportunity_id: Uuid,
    quote: &quote::Model,
) -> AppResult<()> {
    let value = Money::from_stored(quote.total_minor, &quote.currency)?;
    crm::opportunities::update(
        conn,
        actor,
        opportunity_id,
        crm::opportunities::OpportunityChanges {
            value: Some(value),
            ..Default::default()
        },
        None,
    )
    .await?;
    crm::opportunities::close(
        conn,
        actor,
        opportunity_id,
        crm::types::StageKind::Won,
        None,
    )
    .await?;
    Ok(())
}

pub(crate) fn condition(filter: &QuoteFilter) -> Condition {
    Condition::all()
        .add_option(one_of(
            quote::Column::Status,
            filter.statuses.iter().map(|s| s.as_str()),
        ))
        .add_option(equals(quote::Column::ContactId, filter.contact_id))
        .add_option(equals(quote::Column::CompanyId, filter.company_id))
        .add_option(equals(quote::Column::OpportunityId, filter.opportunity_id))
        .add_option(contains(
            Func::lower(Expr::col(quote::Column::Number)),
            filter.search.as_deref(),
        ))
}

/// Quotes, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &QuoteFilter,
    page: &PageRequest,
) -> AppResult<Vec<quote::Model>> {
    let select = quote::Entity::find().filter(condition(filter));
    fetch_page(conn, select, page, SortKey::Id, quote::Column::Id, true).await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &QuoteFilter) -> AppResult<u64> {
    Ok(quote::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}
