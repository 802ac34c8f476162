//! Invoices: drafted directly or from an accepted quote, then issued: numbered with the next
//! number of the invoice series in the issuing transaction (gapless in commit order, issue
//! dates never going back), and final from then on: corrected by credit notes, settled by
//! payments. What is due, paid and overdue is derived from those.

pub mod events;
pub mod loader;
pub mod schema;

use chrono::{Duration, NaiveDate, Utc};
use entity::tenant::invoice;
use platform::{
    audit::Audited,
    auth::Principal,
    db::{
        filter::{contains, equals, one_of},
        find_by_id,
        keyset::{PageRequest, SortKey, fetch_page},
        sql::lock_row,
    },
    domain::Patch,
    error::{AppError, AppResult},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use self::events::Invoices;
use crate::{
    lines::{self, LineDraft, NewLine, Owner, Pricing, tax_groups_json},
    quotes, settings,
    shared::{buyer_of, check_parties, discount_json, stored_discount, stored_exponent},
    totals::{Discount, Totals},
    types::{
        DocumentStatus, InvoiceAction, PaymentStatus, QuoteStatus, RoundingMode, SeriesKind,
        TaxRounding,
    },
};

/// The longest payment terms.
pub const MAX_TERMS_DAYS: i32 = 3650;

pub struct NewInvoice {
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub currency: Option<(String, u32)>,
    pub prices_include_tax: Option<bool>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    pub discount: Option<Discount>,
    /// Default: 30.
    pub payment_terms_days: Option<i32>,
    pub lines: Vec<NewLine>,
}

#[derive(Default)]
pub struct InvoiceChanges {
    pub contact_id: Patch<Uuid>,
    pub company_id: Patch<Uuid>,
    pub currency: Option<(String, u32)>,
    pub prices_include_tax: Option<bool>,
    pub notes: Patch<String>,
    pub terms: Patch<String>,
    pub discount: Patch<Discount>,
    pub payment_terms_days: Option<i32>,
    /// Replaces every line.
    pub lines: Option<Vec<NewLine>>,
}

#[derive(Clone, Debug, Default)]
pub struct InvoiceFilter {
    pub statuses: Vec<DocumentStatus>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub quote_id: Option<Uuid>,
    /// Issued, unpaid and past their due date as of this day.
    pub overdue_on: Option<NaiveDate>,
    /// Part of the number.
    pub search: Option<String>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<invoice::Model> {
    find_by_id::<invoice::Entity, _>(conn, id, "invoice").await
}

/// The invoice, locked for the rest of the transaction.
pub(crate) async fn find_locked<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<invoice::Model> {
    find(conn, id).await?;
    lock_row(conn, "invoices", id).await?;
    find(conn, id).await
}

/// What is still due: the total less credit notes and payments (negative: overpaid).
pub fn balance(invoice: &invoice::Model) -> i64 {
    invoice.total_minor - invoice.credited_minor - invoice.paid_minor
}

/// How much of an issued invoice is paid; none for a draft.
pub fn payment_status(invoice: &invoice::Model) -> Option<PaymentStatus> {
    if invoice.status != DocumentStatus::Issued.as_str() {
        return None;
    }
    let due = invoice.total_minor - invoice.credited_minor;
    Some(match invoice.paid_minor {
        paid if paid > due => PaymentStatus::Overpaid,
        paid if paid == due => PaymentStatus::Paid,
        paid if paid <= 0 => PaymentStatus::Unpaid,
        _ => PaymentStatus::Partial,
    })
}

/// Whether an issued invoice is past its due date with something still due on `today`.
pub fn overdue(invoice: &invoice::Model, today: NaiveDate) -> bool {
    invoice.status == DocumentStatus::Issued.as_str()
        && balance(invoice) > 0
        && invoice.due_date.is_some_and(|due| due < today)
}

/// What can be done to the invoice.
pub fn available_actions(invoice: &invoice::Model) -> AppResult<Vec<InvoiceAction>> {
    use InvoiceAction::*;
    Ok(match DocumentStatus::from_stored(&invoice.status)? {
        DocumentStatus::Draft => vec![Edit, Delete, Issue],
        DocumentStatus::Issued if invoice.credited_minor < invoice.total_minor => {
            vec![Credit, RecordPayment]
        }
        DocumentStatus::Issued => vec![RecordPayment],
    })
}

/// Refuses `action` unless the invoice's state allows it.
pub fn require(invoice: &invoice::Model, action: InvoiceAction) -> AppResult<()> {
    if available_actions(invoice)?.contains(&action) {
        return Ok(());
    }
    Err(AppError::refused(
        "INVALID_TRANSITION",
        format!(
            "an {} invoice cannot be {}",
            invoice.status,
            match action {
                InvoiceAction::Edit => "edited",
                InvoiceAction::Delete => "deleted",
                InvoiceAction::Issue => "issued",
                InvoiceAction::Credit => "credited further",
                InvoiceAction::RecordPayment => "paid",
            }
        ),
    ))
}

fn check_terms(days: i32) -> AppResult<i32> {
    if !(0..=MAX_TERMS_DAYS).contains(&days) {
        return Err(AppError::bad_input(
            "paymentTermsDays",
            format!("paymentTermsDays is between 0 and {MAX_TERMS_DAYS}"),
        ));
    }
    Ok(days)
}

/// The figures the engine computed, as an invoice row keeps them.
fn with_totals(mut row: invoice::ActiveModel, totals: &Totals) -> AppResult<invoice::ActiveModel> {
    row.subtotal_minor = Set(totals.subtotal);
    row.discount_minor = Set(totals.discount);
    row.tax_exclusive_minor = Set(totals.tax_exclusive);
    row.tax_minor = Set(totals.tax);
    row.total_minor = Set(totals.total);
    row.tax_groups = Set(tax_groups_json(totals)?);
    Ok(row)
}

#[allow(clippy::too_many_arguments)]
async fn insert_draft<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    quote_id: Option<Uuid>,
    parties: (Option<Uuid>, Option<Uuid>),
    currency: String,
    pricing: Pricing,
    texts: (Option<String>, Option<String>),
    discount: Option<Discount>,
    payment_terms_days: i32,
    mut drafts: Vec<LineDraft>,
) -> AppResult<invoice::Model> {
    let totals = lines::price(pricing, &mut drafts, discount)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let row = invoice::ActiveModel {
        id: Set(id),
        series_id: Set(None),
        sequence: Set(None),
        number: Set(None),
        status: Set(DocumentStatus::Draft.as_str().to_owned()),
        quote_id: Set(quote_id),
        contact_id: Set(parties.0),
        company_id: Set(parties.1),
        currency: Set(currency),
        prices_include_tax: Set(pricing.prices_include_tax),
        rounding: Set(pricing.rounding.as_str().to_owned()),
        tax_rounding: Set(pricing.tax_rounding.as_str().to_owned()),
        discount: Set(discount_json(discount)),
        notes: Set(texts.0),
        terms: Set(texts.1),
        payment_terms_days: Set(payment_terms_days),
        issue_date: Set(None),
        due_date: Set(None),
        credited_minor: Set(0),
        paid_minor: Set(0),
        buyer: Set(None),
        issued_at: Set(None),
        owner_id: Set(actor.user()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let model = Invoices::insert(conn, actor, with_totals(row, &totals)?).await?;
    lines::store(conn, Owner::Invoice(id), drafts, &totals).await?;
    Ok(model)
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewInvoice,
) -> AppResult<invoice::Model> {
    check_parties(conn, new.contact_id, new.company_id).await?;
    let settings = settings::get(conn).await?;
    let (currency, exponent) = match new.currency {
        Some(currency) => currency,
        None => {
            let exponent = stored_exponent(&settings.default_currency)?;
            (settings.default_currency.clone(), exponent)
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
    let drafts = lines::resolve(conn, &settings, &currency, exponent, new.lines).await?;
    insert_draft(
        conn,
        actor,
        None,
        (new.contact_id, new.company_id),
        currency,
        pricing,
        (new.notes, new.terms),
        new.discount,
        check_terms(new.payment_terms_days.unwrap_or(30))?,
        drafts,
    )
    .await
}

/// A draft invoice billing an accepted quote: its client, lines, discount and prices as
/// the client accepted them. A quote is invoiced once.
pub async fn from_quote<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    quote_id: Uuid,
    payment_terms_days: Option<i32>,
) -> AppResult<invoice::Model> {
    let quote = quotes::find(conn, quote_id).await?;
    if quote.status != QuoteStatus::Accepted.as_str() {
        return Err(AppError::refused(
            "INVALID_TRANSITION",
            "only an accepted quote is invoiced",
        ));
    }
    if let Some(existing) = invoice::Entity::find()
        .filter(invoice::Column::QuoteId.eq(quote_id))
        .one(conn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "the quote is invoiced already ({})",
            existing.number.as_deref().unwrap_or("a draft")
        )));
    }
    let pricing = Pricing::stored(
        &quote.currency,
        quote.prices_include_tax,
        &quote.rounding,
        &quote.tax_rounding,
    )?;
    let drafts = lines::drafts_of(&lines::of(conn, Owner::Quote(quote_id)).await?)?;
    insert_draft(
        conn,
        actor,
        Some(quote_id),
        (quote.contact_id, quote.company_id),
        quote.currency.clone(),
        pricing,
        (quote.notes.clone(), quote.terms.clone()),
        stored_discount(quote.discount.as_ref())?,
        check_terms(payment_terms_days.unwrap_or(30))?,
        drafts,
    )
    .await
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: InvoiceChanges,
) -> AppResult<invoice::Model> {
    let current = find_locked(conn, id).await?;
    require(&current, InvoiceAction::Edit)?;
    let set = |p: &Patch<Uuid>| match p {
        Patch::Set(v) => Some(*v),
        _ => None,
    };
    check_parties(conn, set(&changes.contact_id), set(&changes.company_id)).await?;
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
        Owner::Invoice(id),
        &currency,
        pricing.exponent,
        changes.lines,
    )
    .await?;
    let totals = lines::price(pricing, &mut drafts, discount)?;
    let row = invoice::ActiveModel {
        id: Set(id),
        contact_id: Set(changes.contact_id.apply(current.contact_id)),
        company_id: Set(changes.company_id.apply(current.company_id)),
        currency: Set(currency),
        prices_include_tax: Set(pricing.prices_include_tax),
        discount: Set(discount_json(discount)),
        notes: Set(changes.notes.apply(current.notes.clone())),
        terms: Set(changes.terms.apply(current.terms.clone())),
        payment_terms_days: Set(match changes.payment_terms_days {
            Some(days) => check_terms(days)?,
            None => current.payment_terms_days,
        }),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let model = Invoices::update(conn, actor, &current, with_totals(row, &totals)?, None).await?;
    lines::store(conn, Owner::Invoice(id), drafts, &totals).await?;
    Ok(model)
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_locked(conn, id).await?;
    require(&current, InvoiceAction::Delete)?;
    Invoices::delete(conn, actor, &current).await
}

/// Issues a draft: checks it, then takes the next number of the default invoice series
/// (its row stays locked until the transaction ends, so numbers follow commit order and a
/// rollback spends none) and makes the invoice final. `issue_date` defaults to today where
/// the tenant is; it may be neither in the future nor before the series' last issue date.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    issue_date: Option<NaiveDate>,
) -> AppResult<invoice::Model> {
    let current = find_locked(conn, id).await?;
    require(&current, InvoiceAction::Issue)?;
    if lines::of(conn, Owner::Invoice(id)).await?.is_empty() {
        return Err(AppError::refused(
            "INCOMPLETE",
            "an invoice needs at least one line to be issued",
        ));
    }
    let buyer = buyer_of(conn, current.contact_id, current.company_id, "an invoice").await?;
    let settings = settings::get(conn).await?;
    let today = settings::today(settings::timezone(&settings)?);
    let issue_date = issue_date.unwrap_or(today);
    if issue_date > today {
        return Err(AppError::bad_input(
            "issueDate",
            "an invoice is not issued in the future",
        ));
    }
    let due_date = issue_date + Duration::days(i64::from(current.payment_terms_days));
    let series = settings::default_series(conn, SeriesKind::Invoice).await?;
    let (series, sequence) = settings::take_dated_number(conn, series.id, issue_date).await?;
    let now = Utc::now();
    let row = invoice::ActiveModel {
        id: Set(id),
        status: Set(DocumentStatus::Issued.as_str().to_owned()),
        series_id: Set(Some(series.id)),
        sequence: Set(Some(sequence)),
        number: Set(Some(settings::format_number(&series, sequence))),
        issue_date: Set(Some(issue_date)),
        due_date: Set(Some(due_date)),
        buyer: Set(Some(buyer)),
        issued_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    Invoices::update(conn, actor, &current, row, None).await
}

/// Adds to an issued invoice's credited or paid amount (a credit note issued, a payment
/// allocated), through its audit trail.
pub(crate) async fn add_amounts<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: &invoice::Model,
    credited: i64,
    paid: i64,
) -> AppResult<invoice::Model> {
    let row = invoice::ActiveModel {
        id: Set(current.id),
        credited_minor: Set(current.credited_minor + credited),
        paid_minor: Set(current.paid_minor + paid),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Invoices::update(conn, actor, current, row, None).await
}

pub(crate) fn condition(filter: &InvoiceFilter) -> Condition {
    let overdue = filter.overdue_on.map(|today| {
        Condition::all()
            .add(invoice::Column::Status.eq(DocumentStatus::Issued.as_str()))
            .add(invoice::Column::DueDate.lt(today))
            .add(
                Expr::col(invoice::Column::TotalMinor)
                    .gt(Expr::col(invoice::Column::CreditedMinor)
                        .add(Expr::col(invoice::Column::PaidMinor))),
            )
    });
    Condition::all()
        .add_option(one_of(
            invoice::Column::Status,
            filter.statuses.iter().map(|s| s.as_str()),
        ))
        .add_option(equals(invoice::Column::ContactId, filter.contact_id))
        .add_option(equals(invoice::Column::CompanyId, filter.company_id))
        .add_option(equals(invoice::Column::QuoteId, filter.quote_id))
        .add_option(overdue)
        .add_option(contains(
            Func::lower(Expr::col(invoice::Column::Number)),
            filter.search.as_deref(),
        ))
}

/// Invoices, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> AppResult<Vec<invoice::Model>> {
    let select = invoice::Entity::find().filter(condition(filter));
    fetch_page(conn, select, page, SortKey::Id, invoice::Column::Id, true).await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &InvoiceFilter) -> AppResult<u64> {
    Ok(invoice::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}
