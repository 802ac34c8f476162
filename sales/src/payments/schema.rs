//! Payments over GraphQL.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::payment;
use platform::{
    auth::{Role, RoleGuard},
    domain::Money as DomainMoney,
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt, Money, load_one, money,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};
use rust_decimal::Decimal;

use crate::{
    invoices::{loader::InvoiceById, schema::InvoiceNode},
    payments::{self, MAX_ALLOCATIONS, NewPayment, PaymentFilter},
    shared::{check_parties, currency_input, id, opt_id, optional_text},
    types::PaymentMethod,
};

#[derive(InputObject)]
pub struct AllocationInput {
    pub invoice_id: ID,
    /// Major units; negative in a refund.
    pub amount: Decimal,
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    /// Major units of `currency`; negative for a refund.
    pub amount: Decimal,
    /// ISO 4217.
    pub currency: String,
    pub method: PaymentMethod,
    /// The bank's or the provider's reference.
    pub reference: Option<String>,
    pub received_on: NaiveDate,
    pub notes: Option<String>,
    /// The payer; default: the first invoice's client.
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// What it pays; the rest is the client's credit.
    #[graphql(default)]
    pub allocations: Vec<AllocationInput>,
}

#[derive(InputObject, Default)]
pub struct PaymentFilterInput {
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub invoice_id: Option<ID>,
}

/// A signed amount in minor units of `currency`: the exact decimal with no more places than
/// the currency has.
fn signed_minor(amount: Decimal, currency: &str, field: &str) -> AppResult<i64> {
    let magnitude = DomainMoney::parse(amount.abs(), currency, field)?.minor();
    Ok(if amount.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    })
}

pub struct PaymentNode(pub payment::Model);

/// Money received from a client, or (negative) refunded.
#[Object(name = "Payment")]
impl PaymentNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn amount(&self) -> GqlResult<Money> {
        Ok(money(self.0.amount_minor, &self.0.currency)?)
    }
    /// What it left as the client's credit.
    async fn unallocated(&self) -> GqlResult<Money> {
        Ok(money(self.0.unallocated_minor, &self.0.currency)?)
    }
    async fn method(&self) -> GqlResult<PaymentMethod> {
        Ok(PaymentMethod::from_stored(&self.0.method)?)
    }
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn received_on(&self) -> NaiveDate {
        self.0.received_on
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// The invoices it pays, with the part of it each received.
    async fn allocations(&self, ctx: &Context<'_>) -> GqlResult<Vec<PaymentAllocation>> {
        let rows = payments::allocations_of(ctx.conn().await?, self.0.id).await?;
        let mut allocations = Vec::with_capacity(rows.len());
        for row in rows {
            allocations.push(PaymentAllocation {
                amount: money(row.amount_minor, &self.0.currency)?,
                invoice: load_one::<InvoiceById, _>(ctx, row.invoice_id)
                    .await?
                    .map(InvoiceNode),
            });
        }
        Ok(allocations)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The part of a payment one invoice received.
#[derive(SimpleObject)]
pub struct PaymentAllocation {
    pub amount: Money,
    pub invoice: Option<InvoiceNode>,
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// Payments and refunds, newest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn payments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<PaymentFilterInput>,
    ) -> GqlResult<Page<PaymentNode>> {
        let filter = filter.unwrap_or_default();
        let filter = PaymentFilter {
            contact_id: opt_id(filter.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(filter.company_id.as_ref(), "companyId")?,
            invoice_id: opt_id(filter.invoice_id.as_ref(), "invoiceId")?,
        };
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = payments::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, payments::count(conn, &filter)).await?;
        Ok(page.connection(rows, |p| Cursor::id(p.id), |p| Ok(PaymentNode(p)), total)?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn payment(&self, ctx: &Context<'_>, id: ID) -> GqlResult<PaymentNode> {
        let id = parse_id(&id, "id")?;
        Ok(PaymentNode(payments::find(ctx.conn().await?, id).await?))
    }

    /// The credit a client holds in `currency`: what their payments left unallocated.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn customer_credit(
        &self,
        ctx: &Context<'_>,
        contact_id: Option<ID>,
        company_id: Option<ID>,
        currency: String,
    ) -> GqlResult<Money> {
        let (currency, _) = currency_input(&currency, "currency")?;
        let contact = opt_id(contact_id.as_ref(), "contactId")?;
        let company = opt_id(company_id.as_ref(), "companyId")?;
        if contact.is_none() && company.is_none() {
            return Err(AppError::bad_input("contactId", "give a contact or a company").into());
        }
        let conn = ctx.conn().await?;
        check_parties(conn, contact, company).await?;
        let credit = payments::credit_of(conn, contact, company, &currency).await?;
        Ok(money(credit, &currency)?)
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Records a payment (or, negative, a refund) and allocates it to issued invoices.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> GqlResult<PaymentNode> {
        let (currency, _) = currency_input(&input.currency, "currency")?;
        if input.allocations.len() > MAX_ALLOCATIONS {
            return Err(AppError::bad_input(
                "allocations",
                format!("a payment is allocated to at most {MAX_ALLOCATIONS} invoices"),
            )
            .into());
        }
        let allocations = input
            .allocations
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Ok((
                    parse_id(&a.invoice_id, &format!("allocations[{i}].invoiceId"))?,
                    signed_minor(a.amount, &currency, &format!("allocations[{i}]"))?,
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let new = NewPayment {
            contact_id: opt_id(input.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(input.company_id.as_ref(), "companyId")?,
            amount: signed_minor(input.amount, &currency, "amount")?,
            currency,
            method: input.method,
            reference: optional_text(input.reference.as_deref(), "reference", 200)?,
            received_on: input.received_on,
            notes: optional_text(input.notes.as_deref(), "notes", 2_000)?,
            allocations,
        };
        Ok(PaymentNode(
            payments::record(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }
}
