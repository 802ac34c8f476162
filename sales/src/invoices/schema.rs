//! Invoices over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};
use crm::{
    companies::{loader::CompanyById, schema::CompanyNode},
    contacts::{loader::ContactById, schema::ContactNode},
};
use entity::tenant::invoice;
use identity::schema::{UserNode, user};
use platform::{
    auth::{Role, RoleGuard},
    domain::Patch,
    error::GqlResult,
    graphql::{
        ContextExt, Money, load_one, money,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};

use crate::{
    credit_notes::schema::CreditNoteNode,
    invoices::{
        self, InvoiceChanges, InvoiceFilter, NewInvoice,
        loader::{AllocationsByInvoice, CreditNotesByInvoice},
    },
    lines::{
        loader::LinesByInvoice,
        schema::{
            DocumentTotals, Figures, LineInput, LineNode, currency_of, line_nodes, parse_lines,
        },
    },
    payments::{loader::PaymentById, schema::PaymentNode},
    quotes::{loader::QuoteById, schema::QuoteNode},
    settings,
    shared::{
        DiscountInput, DocumentDiscount, id, opt_id, optional_text, patch_id, patch_text,
        stored_discount,
    },
    types::{DocumentStatus, InvoiceAction, PaymentStatus},
};

const MAX_TEXT: usize = 20_000;

#[derive(InputObject)]
pub struct CreateInvoiceInput {
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// ISO 4217; default: the tenant's default currency.
    pub currency: Option<String>,
    pub prices_include_tax: Option<bool>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    pub discount: Option<DiscountInput>,
    /// Days from the issue date to the due date; default 30.
    pub payment_terms_days: Option<i32>,
    #[graphql(default)]
    pub lines: Vec<LineInput>,
}

/// A draft's fields; those left out stay as they are, `null` clears an optional one.
#[derive(InputObject, Default)]
pub struct UpdateInvoiceInput {
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    pub currency: Option<String>,
    pub prices_include_tax: Option<bool>,
    pub notes: MaybeUndefined<String>,
    pub terms: MaybeUndefined<String>,
    pub discount: MaybeUndefined<DiscountInput>,
    pub payment_terms_days: Option<i32>,
    /// Replaces every line.
    pub lines: Option<Vec<LineInput>>,
}

#[derive(InputObject, Default)]
pub struct InvoiceFilterInput {
    pub status: Option<Vec<DocumentStatus>>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub quote_id: Option<ID>,
    /// Only issued invoices past their due date with something still due.
    pub overdue: Option<bool>,
    /// Part of the number.
    pub search: Option<String>,
}

pub struct InvoiceNode(pub invoice::Model);

impl InvoiceNode {
    fn money(&self, minor: i64) -> GqlResult<Money> {
        Ok(money(minor, &self.0.currency)?)
    }
}

/// A bill: a draft, then issued with its number and final.
#[Object(name = "Invoice")]
impl InvoiceNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Set when issued.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    async fn status(&self) -> GqlResult<DocumentStatus> {
        Ok(DocumentStatus::from_stored(&self.0.status)?)
    }
    /// How much of it is paid; none for a draft.
    async fn payment_status(&self) -> Option<PaymentStatus> {
        invoices::payment_status(&self.0)
    }
    /// Past its due date with something still due, today where the tenant is.
    async fn overdue(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let settings = settings::get(ctx.conn().await?).await?;
        let today = settings::today(settings::timezone(&settings)?);
        Ok(invoices::overdue(&self.0, today))
    }
    async fn available_actions(&self) -> GqlResult<Vec<InvoiceAction>> {
        Ok(invoices::available_actions(&self.0)?)
    }
    /// The accepted quote it bills.
    async fn quote(&self, ctx: &Context<'_>) -> GqlResult<Option<QuoteNode>> {
        let Some(quote) = self.0.quote_id else {
            return Ok(None);
        };
        Ok(load_one::<QuoteById, _>(ctx, quote).await?.map(QuoteNode))
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        let Some(contact) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact)
            .await?
            .map(ContactNode))
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        let Some(company) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company)
            .await?
            .map(CompanyNode))
    }
    /// ISO 4217.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn prices_include_tax(&self) -> bool {
        self.0.prices_include_tax
    }
    async fn discount(&self) -> GqlResult<Option<DocumentDiscount>> {
        Ok(stored_discount(self.0.discount.as_ref())?.map(DocumentDiscount::from))
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn terms(&self) -> Option<&str> {
        self.0.terms.as_deref()
    }
    async fn payment_terms_days(&self) -> i32 {
        self.0.payment_terms_days
    }
    async fn issue_date(&self) -> Option<NaiveDate> {
        self.0.issue_date
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.0.due_date
    }
    #[graphql(complexity = "platform::graphql::complexity::list(200, child_complexity)")]
    async fn lines(&self, ctx: &Context<'_>) -> GqlResult<Vec<LineNode>> {
        let lines = load_one::<LinesByInvoice, _>(ctx, self.0.id).await?;
        Ok(line_nodes(lines.unwrap_or_default(), &self.0.currency))
    }
    async fn totals(&self) -> GqlResult<DocumentTotals> {
        Figures::from(&self.0).totals()
    }
    /// The sum of its issued credit notes.
    async fn credited(&self) -> GqlResult<Money> {
        self.money(self.0.credited_minor)
    }
    /// The sum of the payments allocated to it, refunds taken off.
    async fn paid(&self) -> GqlResult<Money> {
        self.money(self.0.paid_minor)
    }
    /// What is still due: total less credits and payments (negative when overpaid).
    async fn balance(&self) -> GqlResult<Money> {
        self.money(invoices::balance(&self.0))
    }
    #[graphql(complexity = "platform::graphql::complexity::list(100, child_complexity)")]
    async fn credit_notes(&self, ctx: &Context<'_>) -> GqlResult<Vec<CreditNoteNode>> {
        Ok(load_one::<CreditNotesByInvoice, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CreditNoteNode)
            .collect())
    }
    /// The payments (and refunds) allocated to it, with the part each allocated here.
    #[graphql(complexity = "platform::graphql::complexity::list(100, child_complexity)")]
    async fn payments(&self, ctx: &Context<'_>) -> GqlResult<Vec<InvoicePayment>> {
        let allocations = load_one::<AllocationsByInvoice, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default();
        let mut payments = Vec::with_capacity(allocations.len());
        for allocation in allocations {
            let payment = load_one::<PaymentById, _>(ctx, allocation.payment_id)
                .await?
                .map(PaymentNode);
            payments.push(InvoicePayment {
                amount: self.money(allocation.amount_minor)?,
                payment,
            });
        }
        Ok(payments)
    }
    /// Who it is for, as they were when it was issued.
    async fn buyer(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.buyer.clone().map(async_graphql::Json)
    }
    async fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.issued_at
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A payment's part allocated to one invoice.
#[derive(async_graphql::SimpleObject)]
pub struct InvoicePayment {
    /// What it allocated here (negative: a refund).
    pub amount: Money,
    pub payment: Option<PaymentNode>,
}

#[derive(Default)]
pub struct InvoicesQuery;

#[Object]
impl InvoicesQuery {
    /// Invoices, newest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<InvoiceFilterInput>,
    ) -> GqlResult<Page<InvoiceNode>> {
        let filter = filter.unwrap_or_default();
        let conn = ctx.conn().await?;
        let overdue_on = match filter.overdue {
            Some(true) => {
                let settings = settings::get(conn).await?;
                Some(settings::today(settings::timezone(&settings)?))
            }
            _ => None,
        };
        let filter = InvoiceFilter {
            statuses: filter.status.unwrap_or_default(),
            contact_id: opt_id(filter.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(filter.company_id.as_ref(), "companyId")?,
            quote_id: opt_id(filter.quote_id.as_ref(), "quoteId")?,
            overdue_on,
            search: filter.search,
        };
        let page = PageRequest::parse(first, after, last, before)?;
        let rows = invoices::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, invoices::count(conn, &filter)).await?;
        Ok(page.connection(rows, |i| Cursor::id(i.id), |i| Ok(InvoiceNode(i)), total)?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn invoice(&self, ctx: &Context<'_>, id: ID) -> GqlResult<InvoiceNode> {
        let id = parse_id(&id, "id")?;
        Ok(InvoiceNode(invoices::find(ctx.conn().await?, id).await?))
    }
}

#[derive(Default)]
pub struct InvoicesMutation;

#[Object]
impl InvoicesMutation {
    /// A draft invoice.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn create_invoice(
        &self,
        ctx: &Context<'_>,
        input: CreateInvoiceInput,
    ) -> GqlResult<InvoiceNode> {
        let (currency, exponent) = currency_of(input.currency.as_deref())?;
        let new = NewInvoice {
            contact_id: opt_id(input.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(input.company_id.as_ref(), "companyId")?,
            currency,
            prices_include_tax: input.prices_include_tax,
            notes: optional_text(input.notes.as_deref(), "notes", MAX_TEXT)?,
            terms: optional_text(input.terms.as_deref(), "terms", MAX_TEXT)?,
            discount: input
                .discount
                .map(|d| d.parse("discount", exponent))
                .transpose()?,
            payment_terms_days: input.payment_terms_days,
            lines: parse_lines(input.lines, exponent)?,
        };
        Ok(InvoiceNode(
            invoices::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    /// A draft invoice billing an accepted quote as the client accepted it.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn create_invoice_from_quote(
        &self,
        ctx: &Context<'_>,
        quote_id: ID,
        payment_terms_days: Option<i32>,
    ) -> GqlResult<InvoiceNode> {
        let quote_id = parse_id(&quote_id, "quoteId")?;
        Ok(InvoiceNode(
            invoices::from_quote(
                ctx.conn().await?,
                ctx.principal()?,
                quote_id,
                payment_terms_days,
            )
            .await?,
        ))
    }

    /// Changes a draft.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn update_invoice(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateInvoiceInput,
    ) -> GqlResult<InvoiceNode> {
        let id = parse_id(&id, "id")?;
        let (currency, exponent) = currency_of(input.currency.as_deref())?;
        let changes = InvoiceChanges {
            contact_id: patch_id(input.contact_id, "contactId")?,
            company_id: patch_id(input.company_id, "companyId")?,
            currency,
            prices_include_tax: input.prices_include_tax,
            notes: patch_text(input.notes, "notes", MAX_TEXT)?,
            terms: patch_text(input.terms, "terms", MAX_TEXT)?,
            discount: Patch::from_graphql(input.discount)
                .try_map(|d| d.parse("discount", exponent))?,
            payment_terms_days: input.payment_terms_days,
            lines: input
                .lines
                .map(|lines| parse_lines(lines, exponent))
                .transpose()?,
        };
        Ok(InvoiceNode(
            invoices::update(ctx.conn().await?, ctx.principal()?, id, changes).await?,
        ))
    }

    /// Deletes a draft.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn delete_invoice(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        invoices::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Issues a draft with the invoice series' next number; final from then on.
    /// `issueDate` (default today) is neither in the future nor before the series' last.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        id: ID,
        issue_date: Option<NaiveDate>,
    ) -> GqlResult<InvoiceNode> {
        let id = parse_id(&id, "id")?;
        Ok(InvoiceNode(
            invoices::issue(ctx.conn().await?, ctx.principal()?, id, issue_date).await?,
        ))
    }
}
