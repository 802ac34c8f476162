//! Payments: money received (or, negative, refunded) in one currency, allocated to issued
//! invoices. What a payment does not allocate is the client's credit; a refund takes back
//! from an invoice's payments or from that credit, never more than there is. Payments are
//! never edited: a mistake is corrected by a refund.

pub mod events;
pub mod loader;
pub mod schema;

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use entity::tenant::{invoice, payment, payment_allocation};
use platform::{
    audit::Audited,
    auth::Principal,
    db::{
        find_by_id,
        keyset::{PageRequest, SortKey, fetch_page},
    },
    error::{AppError, AppResult},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use self::events::Payments;
use crate::{
    invoices,
    shared::check_parties,
    types::{DocumentStatus, PaymentMethod},
};

/// The most invoices one payment is allocated to.
pub const MAX_ALLOCATIONS: usize = 100;

pub struct NewPayment {
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// Minor units of `currency`; negative for a refund.
    pub amount: i64,
    pub currency: String,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub received_on: NaiveDate,
    pub notes: Option<String>,
    /// (invoice, minor units), each of the payment's sign.
    pub allocations: Vec<(Uuid, i64)>,
}

#[derive(Clone, Debug, Default)]
pub struct PaymentFilter {
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<payment::Model> {
    find_by_id::<payment::Entity, _>(conn, id, "payment").await
}

pub async fn allocations_of<C: ConnectionTrait>(
    conn: &C,
    payment_id: Uuid,
) -> AppResult<Vec<payment_allocation::Model>> {
    Ok(payment_allocation::Entity::find()
        .filter(payment_allocation::Column::PaymentId.eq(payment_id))
        .order_by_asc(payment_allocation::Column::Id)
        .all(conn)
        .await?)
}

/// The credit a client (a contact or a company) holds in `currency`: what their payments did
/// not allocate.
pub async fn credit_of<C: ConnectionTrait>(
    conn: &C,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    currency: &str,
) -> AppResult<i64> {
    let holder = match (contact_id, company_id) {
        (Some(contact), _) => payment::Column::ContactId.eq(contact),
        (None, Some(company)) => payment::Column::CompanyId.eq(company),
        (None, None) => return Ok(0),
    };
    let unallocated: Vec<i64> = payment::Entity::find()
        .select_only()
        .column(payment::Column::UnallocatedMinor)
        .filter(holder)
        .filter(payment::Column::Currency.eq(currency))
        .filter(payment::Column::UnallocatedMinor.ne(0))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(unallocated.iter().sum())
}

/// Records a payment and applies its allocations to their invoices, each locked (in id
/// order) while its balance is checked: a payment pays at most what is due, a refund takes
/// back at most what was paid.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewPayment,
) -> AppResult<payment::Model> {
    if new.amount == 0 {
        return Err(AppError::bad_input("amount", "a payment is not zero"));
    }
    if new.allocations.len() > MAX_ALLOCATIONS {
        return Err(AppError::bad_input(
            "allocations",
            format!("a payment is allocated to at most {MAX_ALLOCATIONS} invoices"),
        ));
    }
    let ids: HashSet<Uuid> = new.allocations.iter().map(|(id, _)| *id).collect();
    if ids.len() != new.allocations.len() {
        return Err(AppError::bad_input(
            "allocations",
            "an invoice appears once in a payment's allocations",
        ));
    }
    let refund = new.amount < 0;
    let mut allocated: i64 = 0;
    for (index, (_, amount)) in new.allocations.iter().enumerate() {
        if *amount == 0 || (*amount < 0) != refund {
            return Err(AppError::bad_input(
                format!("allocations[{index}].amount"),
                "an allocation has the payment's sign and is not zero",
            ));
        }
        allocated = allocated
            .checked_add(*amount)
            .ok_or_else(|| AppError::bad_input("allocations", "the amounts are too large"))?;
    }
    if allocated.abs() > new.amount.abs() {
        return Err(AppError::bad_input(
            "allocations",
            "the allocations add up to more than the payment",
        ));
    }
    check_parties(conn, new.contact_id, new.company_id).await?;

    let mut sorted = new.allocations.clone();
    sorted.sort_by_key(|(id, _)| *id);
    let mut invoices_found: Vec<(invoice::Model, i64)> = Vec::with_capacity(sorted.len());
    for (id, amount) in sorted {
        let invoice = invoices::find_locked(conn, id).await?;
        let index = new
            .allocations
            .iter()
            .position(|(i, _)| *i == id)
            .unwrap_or_default();
        let field = format!("allocations[{index}]");
        if invoice.status != DocumentStatus::Issued.as_str() {
            return Err(AppError::refused(
                "INVALID_TRANSITION",
                "payments are allocated to issued invoices",
            ));
        }
        if invoice.currency != new.currency {
            return Err(AppError::bad_input(
                format!("{field}.invoiceId"),
                format!(
                    "the invoice is in {}, the payment in {}",
                    invoice.currency, new.currency
                ),
            ));
        }
        if amount > 0 && amount > invoices::balance(&invoice) {
            return Err(AppError::bad_input(
                format!("{field}.amount"),
                "more than the invoice has due; leave the rest unallocated as the client's credit",
            ));
        }
        if amount < 0 && -amount > invoice.paid_minor {
            return Err(AppError::bad_input(
                format!("{field}.amount"),
                "a refund takes back at most what the invoice was paid",
            ));
        }
        invoices_found.push((invoice, amount));
    }
    // The payer: as given, else the first invoice's.
    let (contact_id, company_id) = match (new.contact_id, new.company_id, invoices_found.first()) {
        (None, None, Some((invoice, _))) => (invoice.contact_id, invoice.company_id),
        (contact, company, _) => (contact, company),
    };
    let unallocated = new.amount - allocated;
    if unallocated < 0 {
        let credit = credit_of(conn, contact_id, company_id, &new.currency).await?;
        if credit + unallocated < 0 {
            return Err(AppError::bad_input(
                "amount",
                "the refund is more than the client's credit and the allocations",
            ));
        }
    }

    let id = Uuid::now_v7();
    let row = payment::ActiveModel {
        id: Set(id),
        contact_id: Set(contact_id),
        company_id: Set(company_id),
        amount_minor: Set(new.amount),
        unallocated_minor: Set(unallocated),
        currency: Set(new.currency),
        method: Set(new.method.as_str().to_owned()),
        reference: Set(new.reference),
        received_on: Set(new.received_on),
        notes: Set(new.notes),
        recorded_by: Set(actor.user()),
        created_at: Set(Utc::now()),
    };
    let model = Payments::insert(conn, actor, row).await?;
    for (invoice, amount) in invoices_found {
        payment_allocation::ActiveModel {
            id: Set(Uuid::now_v7()),
            payment_id: Set(id),
            invoice_id: Set(invoice.id),
            amount_minor: Set(amount),
        }
        .insert(conn)
        .await?;
        invoices::add_amounts(conn, actor, &invoice, 0, amount).await?;
    }
    Ok(model)
}

fn condition(filter: &PaymentFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(contact) = filter.contact_id {
        condition = condition.add(payment::Column::ContactId.eq(contact));
    }
    if let Some(company) = filter.company_id {
        condition = condition.add(payment::Column::CompanyId.eq(company));
    }
    if let Some(invoice) = filter.invoice_id {
        condition = condition.add(
            payment::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(payment_allocation::Column::PaymentId)
                    .from(payment_allocation::Entity)
                    .and_where(payment_allocation::Column::InvoiceId.eq(invoice))
                    .to_owned(),
            ),
        );
    }
    condition
}

/// Payments, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &PaymentFilter,
    page: &PageRequest,
) -> AppResult<Vec<payment::Model>> {
    let select = payment::Entity::find().filter(condition(filter));
    fetch_page(conn, select, page, SortKey::Id, payment::Column::Id, true).await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &PaymentFilter) -> AppResult<u64> {
    Ok(payment::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}
