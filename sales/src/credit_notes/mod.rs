//! Credit notes: the only correction of an issued invoice. Drafted for an invoice (all of
//! its lines by default, or the lines given), then issued with the credit note series' next
//! number; the credits of an invoice never add up to more than its total.

pub mod events;
pub mod schema;

use chrono::Utc;
use entity::tenant::credit_note;
use platform::{
    audit::Audited,
    auth::Principal,
    db::{find_by_id, sql::lock_row},
    error::{AppError, AppResult},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use self::events::CreditNotes;
use crate::{
    invoices,
    lines::{self, NewLine, Owner, Pricing, tax_groups_json},
    settings,
    shared::{discount_json, stored_discount},
    types::{CreditNoteAction, DocumentStatus, InvoiceAction, SeriesKind},
};

pub struct NewCreditNote {
    pub invoice_id: Uuid,
    pub reason: Option<String>,
    /// None: every line of the invoice.
    pub lines: Option<Vec<NewLine>>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<credit_note::Model> {
    find_by_id::<credit_note::Entity, _>(conn, id, "credit note").await
}

async fn find_locked<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<credit_note::Model> {
    find(conn, id).await?;
    lock_row(conn, "credit_notes", id).await?;
    find(conn, id).await
}

/// An invoice's credit notes, oldest first.
pub async fn of_invoice<C: ConnectionTrait>(
    conn: &C,
    invoice_id: Uuid,
) -> AppResult<Vec<credit_note::Model>> {
    Ok(credit_note::Entity::find()
        .filter(credit_note::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(credit_note::Column::Id)
        .all(conn)
        .await?)
}

pub fn available_actions(note: &credit_note::Model) -> AppResult<Vec<CreditNoteAction>> {
    use CreditNoteAction::*;
    Ok(match DocumentStatus::from_stored(&note.status)? {
        DocumentStatus::Draft => vec![Edit, Delete, Issue],
        DocumentStatus::Issued => vec![],
    })
}

pub fn require(note: &credit_note::Model, action: CreditNoteAction) -> AppResult<()> {
    if available_actions(note)?.contains(&action) {
        return Ok(());
    }
    Err(AppError::refused(
        "INVALID_TRANSITION",
        format!(
            "an {} credit note cannot be {}",
            note.status,
            match action {
                CreditNoteAction::Edit => "edited",
                CreditNoteAction::Delete => "deleted",
                CreditNoteAction::Issue => "issued",
            }
        ),
    ))
}

fn pricing_of(note: &credit_note::Model) -> AppResult<Pricing> {
    Pricing::stored(
        &note.currency,
        note.prices_include_tax,
        &note.rounding,
        &note.tax_rounding,
    )
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewCreditNote,
) -> AppResult<credit_note::Model> {
    let invoice = invoices::find(conn, new.invoice_id).await?;
    invoices::require(&invoice, InvoiceAction::Credit)?;
    let pricing = Pricing::stored(
        &invoice.currency,
        invoice.prices_include_tax,
        &invoice.rounding,
        &invoice.tax_rounding,
    )?;
    // A full credit copies the invoice's lines and discount, so it credits exactly what was
    // invoiced; a partial one credits its own lines' amounts.
    let (mut drafts, given) = lines::given_or_stored(
        conn,
        Owner::Invoice(invoice.id),
        &invoice.currency,
        pricing.exponent,
        new.lines,
    )
    .await?;
    let discount = if given {
        None
    } else {
        stored_discount(invoice.discount.as_ref())?
    };
    let totals = lines::price(pricing, &mut drafts, discount)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let row = credit_note::ActiveModel {
        id: Set(id),
        invoice_id: Set(invoice.id),
        series_id: Set(None),
        sequence: Set(None),
        number: Set(None),
        status: Set(DocumentStatus::Draft.as_str().to_owned()),
        reason: Set(new.reason),
        currency: Set(invoice.currency.clone()),
        prices_include_tax: Set(invoice.prices_include_tax),
        rounding: Set(invoice.rounding.clone()),
        tax_rounding: Set(invoice.tax_rounding.clone()),
        discount: Set(discount_json(discount)),
        issue_date: Set(None),
        subtotal_minor: Set(totals.subtotal),
        discount_minor: Set(totals.discount),
        tax_exclusive_minor: Set(totals.tax_exclusive),
        tax_minor: Set(totals.tax),
        total_minor: Set(totals.total),
        tax_groups: Set(tax_groups_json(&totals)?),
        issued_at: Set(None),
        owner_id: Set(actor.user()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = CreditNotes::insert(conn, actor, row).await?;
    lines::store(conn, Owner::CreditNote(id), drafts, &totals).await?;
    Ok(model)
}

/// Replaces a draft's reason and lines.
pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    reason: platform::domain::Patch<String>,
    new_lines: Option<Vec<NewLine>>,
) -> AppResult<credit_note::Model> {
    let current = find_locked(conn, id).await?;
    require(&current, CreditNoteAction::Edit)?;
    let pricing = pricing_of(&current)?;
    let (mut drafts, given) = lines::given_or_stored(
        conn,
        Owner::CreditNote(id),
        &current.currency,
        pricing.exponent,
        new_lines,
    )
    .await?;
    let discount = if given {
        None
    } else {
        stored_discount(current.discount.as_ref())?
    };
    let totals = lines::price(pricing, &mut drafts, discount)?;
    let row = credit_note::ActiveModel {
        id: Set(id),
        reason: Set(reason.apply(current.reason.clone())),
        discount: Set(discount_json(discount)),
        subtotal_minor: Set(totals.subtotal),
        discount_minor: Set(totals.discount),
        tax_exclusive_minor: Set(totals.tax_exclusive),
        tax_minor: Set(totals.tax),
        total_minor: Set(totals.total),
        tax_groups: Set(tax_groups_json(&totals)?),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let model = CreditNotes::update(conn, actor, &current, row, None).await?;
    lines::store(conn, Owner::CreditNote(id), drafts, &totals).await?;
    Ok(model)
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_locked(conn, id).await?;
    require(&current, CreditNoteAction::Delete)?;
    CreditNotes::delete(conn, actor, &current).await
}

/// Issues a draft: numbered in the credit note series, dated today where the tenant is,
/// and added to its invoice's credits, which may not pass the invoice's total.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
) -> AppResult<credit_note::Model> {
    let current = find_locked(conn, id).await?;
    require(&current, CreditNoteAction::Issue)?;
    let invoice = invoices::find_locked(conn, current.invoice_id).await?;
    if current.total_minor <= 0 {
        return Err(AppError::refused(
            "INCOMPLETE",
            "a credit note credits more than nothing",
        ));
    }
    if invoice.credited_minor + current.total_minor > invoice.total_minor {
        return Err(AppError::refused(
            "CREDIT_EXCEEDS_INVOICE",
            format!(
                "the invoice has {} left to credit in minor units; this note credits {}",
                invoice.total_minor - invoice.credited_minor,
                current.total_minor
            ),
        ));
    }
    let settings = settings::get(conn).await?;
    let today = settings::today(settings::timezone(&settings)?);
    let series = settings::default_series(conn, SeriesKind::CreditNote).await?;
    let (series, sequence) = settings::take_dated_number(conn, series.id, today).await?;
    let now = Utc::now();
    let row = credit_note::ActiveModel {
        id: Set(id),
        status: Set(DocumentStatus::Issued.as_str().to_owned()),
        series_id: Set(Some(series.id)),
        sequence: Set(Some(sequence)),
        number: Set(Some(settings::format_number(&series, sequence))),
        issue_date: Set(Some(today)),
        issued_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    let model = CreditNotes::update(conn, actor, &current, row, None).await?;
    invoices::add_amounts(conn, actor, &invoice, current.total_minor, 0).await?;
    Ok(model)
}
